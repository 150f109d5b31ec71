/**
 * `GET /v1/diagnostics` and `POST /v1/diagnostics/export` of a real running agent: every check with
 * its outcome and, for a failure, the command that fixes it; the export is a zip readable by this
 * user only whose parts hold no credential (a blocked secret, the gateway enrollment token).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAiClient } from '../../support/clients.js';
import { startTestAgent, type TestAgent } from '../../support/agent.js';
import { diagnosticsExport, doctorReport } from '../../../shared/schema/control.js';
import { scrubJson } from '../../../agent/control/diagnostics.js';

const SECRET = 'AKIAIOSFODNN7EXAMPLE';

describe('the control API diagnostics', () => {
  let t: TestAgent;
  let token: string;
  const call = (method: string, route: string): Promise<Response> => fetch(`${t.agent.control.url}${route}`, { method, headers: { authorization: `Bearer ${token}` } });

  beforeAll(async () => {
    t = await startTestAgent({
      policy: { version: 1, name: 'diagnostics', interception: { hosts: ['api.openai.com'] }, guardrails: [{ id: 'no-cloud-keys', type: 'secrets', on: ['input'], action: 'block' }] },
    });
    token = (await fs.readFile(path.join(t.home, 'control.token'), 'utf8')).trim();
    const sdk = openAiClient({ proxyUrl: t.proxyUrl, ca: t.caPem, maxRetries: 0 });
    await expect(sdk.client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `deploy with ${SECRET}` }] })).rejects.toThrow();
    await sdk.close();
    t.agent.store.audit.flushNow();
  });
  afterAll(async () => t?.close());

  it('runs every self-check against the running agent, each failure with its fix', async () => {
    const res = await call('GET', '/v1/diagnostics');
    expect(res.status).toBe(200);
    const report = doctorReport.parse(await res.json());
    const agent = report.checks.find((c) => c.id === 'agent');
    expect(agent?.outcome).toBe('ok');
    expect(report.checks.length).toBeGreaterThan(5);
    for (const c of report.checks.filter((x) => x.outcome === 'fail')) expect(c.fix).not.toBeNull();
  });

  it('exports a zip for IT, private to this user, with no credential in it', async () => {
    const res = await call('POST', '/v1/diagnostics/export');
    expect(res.status).toBe(201);
    const info = diagnosticsExport.parse(await res.json());
    expect(path.dirname(info.file)).toBe(path.join(t.home, 'diagnostics'));
    expect((await fs.stat(info.file)).mode & 0o777).toBe(0o600);
    const entries = unzipSync(new Uint8Array(await fs.readFile(info.file)));
    expect(Object.keys(entries).sort()).toEqual(['README.txt', 'activity.json', 'diagnostics.json', 'settings.json', 'status.json']);
    const all = Object.values(entries).map((e) => strFromU8(e)).join('\n');
    expect(all).not.toContain(SECRET);
    expect(all).not.toContain(token);
    const activity = JSON.parse(strFromU8(entries['activity.json'] as Uint8Array)) as { items: Array<{ decision: string }> };
    expect(activity.items[0]?.decision).toBe('block');
    expect(JSON.parse(strFromU8(entries['status.json'] as Uint8Array))).toMatchObject({ policy: { name: 'diagnostics' } });
  });

  it('scrubs secret-named fields and secret-shaped text from every part', () => {
    const text = scrubJson({ gateway: { url: 'https://gw.example', enrollmentToken: 'enroll-2f9c1e7a' }, note: `found ghp_${'a1B2c3D4e5'.repeat(4).slice(0, 36)} and ${SECRET}` });
    expect(text).toContain('https://gw.example');
    expect(text).not.toContain('enroll-2f9c1e7a');
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('ghp_a1B2');
  });
});
