/**
 * The central gateway and an enrolled laptop, as a user runs them: `outpost enroll` and `outpost
 * start` as processes (the built CLI) against a real gateway; the gateway's signed policy reaches
 * the agent, `outpost status` shows the gateway link and the signed version, a real request through
 * the agent is governed and its record reaches the gateway's audit.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { runOutpost, startOutpost, writeAgentConfig, type RunningAgent } from '../support/cli.js';
import { chatThrough } from '../support/clients.js';
import { createTestCa, type TestCa } from '../support/test-ca.js';
import { startFakeProvider, type FakeProvider } from '../support/fake-provider.js';

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

describe('outpost enroll, then outpost start, with a central gateway', () => {
  let gw: TestGateway;
  let ca: TestCa;
  let provider: FakeProvider;
  let dir: string;
  let agent: RunningAgent | null = null;

  beforeAll(async () => {
    gw = await startTestGateway();
    ca = await createTestCa();
    provider = await startFakeProvider({ ca });
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-e2e-gateway-'));
  });
  afterAll(async () => {
    if (agent) await stop(agent.child);
    await gw?.close();
    await provider?.close();
    await ca?.dispose();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('takes the signed policy, says so in outpost status, and uploads the audit', async () => {
    await gw.admin('PUT', '/admin/v1/policy', { version: 1, name: 'from-the-gateway', interception: { hosts: ['api.openai.com'] } });
    const config = await writeAgentConfig(dir, { policy: { version: 1, name: 'local-file', interception: { hosts: ['api.openai.com'] } }, resolve: provider.resolveMap(), caFile: ca.caFile });
    const token = (await gw.admin('POST', '/admin/v1/enrollment-tokens', {})).body.token as string;
    const enrolled = await runOutpost(['enroll', '--gateway', gw.url, '--token', token, '--config', config, '--json']);
    expect(enrolled.stderr).toBe('');
    const deviceId = (JSON.parse(enrolled.stdout) as { deviceId: string }).deviceId;

    agent = await startOutpost(config, { captureStderr: true });
    let status: any = null;
    for (let i = 0; i < 100; i++) {
      const out = await runOutpost(['status', '--json', '--config', config]);
      status = JSON.parse(out.stdout);
      if (status.gateway?.state === 'connected' && status.gateway?.policyVersion === 1) break;
    }
    expect(status.gateway).toMatchObject({ url: gw.url, deviceId, state: 'connected', policyVersion: 1, policyRejected: null });
    expect(status.policy).toMatchObject({ name: 'from-the-gateway', source: 'gateway (signed v1)' });
    const text = await runOutpost(['status', '--config', config]);
    expect(text.stdout).toContain(`gateway  ${gw.url} as ${deviceId}: connected since`);
    expect(text.stdout).toContain('signed policy v1');

    expect((await chatThrough({ proxyUrl: agent.proxyUrl, ca: agent.caPem }, 'hello gateway')).status).toBe(200);
    let records: Array<{ deviceId: string; host: string }> = [];
    for (let i = 0; i < 200 && records.length === 0; i++) {
      records = (await gw.admin('GET', `/admin/v1/audit?device=${deviceId}`)).body.records;
    }
    expect(records.map((r) => r.host)).toContain('api.openai.com');
  });
});
