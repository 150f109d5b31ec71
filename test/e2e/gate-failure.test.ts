/**
 * The whole agent when its keychain fails for real (the provider key's entry cannot be read): under
 * fail open the request goes out with its virtual key stripped, under fail closed it is a 503; both
 * are recorded with the error, `outpost status` shows the gate degraded, and /metrics counts it.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatcherFor } from '../support/clients.js';
import { startTestAgent, type TestAgent } from '../support/agent.js';
import { REPO_ROOT } from '../support/repo.js';
import { policy as policySchema, type PolicyInput } from '../../shared/schema/policy.js';

const run = promisify(execFile);
const VK = 'ovk-e2e-9d8c7b6a5f';
const policy = (failMode: 'open' | 'closed', version: number): PolicyInput => ({
  version,
  name: 'gate-failure',
  failMode,
  interception: { hosts: ['api.openai.com'] },
  virtualKeys: [{ id: 'vk-e2e', key: VK, owner: 'user:jane@acme.example', providerKeys: { openai: 'keychain:openai-e2e' } }],
});

describe('the whole agent with a keychain that fails', () => {
  let t: TestAgent;
  beforeAll(async () => {
    t = await startTestAgent({ policy: policy('open', 1) });
    // The entry exists but cannot be read: its file is a directory (EISDIR), a real keychain error.
    await t.agent.ca.keychain.set('secret:openai-e2e', 'sk-real-e2e');
    const dir = path.join(t.home, 'keys');
    const [entry] = (await fs.readdir(dir)).filter((f) => f.startsWith('secret_openai-e2e-'));
    if (entry === undefined) throw new Error('the keychain entry was not written where expected');
    await fs.rm(path.join(dir, entry));
    await fs.mkdir(path.join(dir, entry));
  });
  afterAll(async () => t?.close());

  async function chat(): Promise<{ status: number; decision: string | null }> {
    const dispatcher = dispatcherFor({ proxyUrl: t.proxyUrl, ca: t.caPem });
    try {
      const res = await undiciFetch('https://api.openai.com/v1/chat/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${VK}` },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] }),
        dispatcher,
      });
      await res.text();
      return { status: res.status, decision: res.headers.get('x-outpost-decision') };
    } finally {
      await dispatcher.close();
    }
  }

  it('fail open: forwarded without the virtual key, recorded, degraded in status, counted in metrics', async () => {
    const r = await chat();
    expect(r.decision).toContain('error-open');
    const seen = t.provider.requests.at(-1);
    expect(seen?.rawHeaders.join('\n')).not.toContain('ovk-');
    expect(seen?.headers.authorization).toBeUndefined();
    t.agent.store.audit.flushNow();
    const record = t.agent.store.audit.recordsAfter(0).at(-1);
    expect(record).toMatchObject({ decision: 'error', rules: [{ id: 'gate', kind: 'internal-error' }] });
    expect(record?.error).toContain('EISDIR');

    const status = t.agent.status();
    expect(status.gate).toMatchObject({ failures: 1, degraded: true, last: { stage: 'keychain', failMode: 'open' } });
    expect(status.degraded.join('\n')).toContain('gate: internal failure');
    const { stdout } = await run(process.execPath, [path.join(REPO_ROOT, 'dist/agent/cli/main.js'), 'status'], { env: { ...process.env, OUTPOST_HOME: t.home } });
    expect(stdout).toMatch(/WARNING {2}gate: internal failure .*keychain/);

    const token = (await fs.readFile(path.join(t.home, 'control.token'), 'utf8')).trim();
    const metrics = await (await fetch(`${t.agent.control.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
    expect(metrics).toMatch(/outpost_gate_failures_total\{stage="keychain",fail_mode="open"\} 1/);
    expect(metrics).toMatch(/outpost_requests_total\{decision="error",provider="openai",kind="request"\} 1/);
  });

  it('fail closed: a 503, nothing leaves, recorded', async () => {
    await t.agent.applyPolicy(policySchema.parse(policy('closed', 2)), 'test');
    const before = t.provider.requests.length;
    const r = await chat();
    expect(r.status).toBe(503);
    expect(r.decision).toContain('error-closed');
    expect(t.provider.requests.length).toBe(before);
    t.agent.store.audit.flushNow();
    expect(t.agent.store.audit.recordsAfter(0).at(-1)).toMatchObject({ decision: 'error', status: 503 });
    expect(t.agent.status().gate).toMatchObject({ failures: 2, last: { failMode: 'closed' } });
  });
});
