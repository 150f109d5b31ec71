/**
 * The CA follows the policy on every path by which a policy takes effect: at start (the file, or
 * the stored policy), hot reload, a policy pushed by the gateway (`RunningAgent.applyPolicy`, the
 * function the sync client calls), a rollback. Real agent, real TLS, clients that trust only the
 * agent's CA: a host the CA could not sign for would fail them.
 */
import fs from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestAgent, type TestAgent } from '../../support/agent.js';
import { fetchFor } from '../../support/clients.js';
import { FAKE_AZURE_HOST } from '../../support/fake-provider.js';
import { policy as policySchema, type PolicyInput } from '../../../shared/schema/policy.js';
import { openAgentStore } from '../../../agent/agent-store.js';

const OPENAI = 'api.openai.com';
const ANTHROPIC = 'api.anthropic.com';

function policy(version: number, hosts: string[]): PolicyInput {
  return { version, name: `v${version}`, interception: { hosts } };
}

/** One Anthropic call through the agent, trusting only `caPem`: the status, or the client's error. */
async function anthropicThrough(t: TestAgent, caPem: string, host = ANTHROPIC): Promise<number | string> {
  const { client: fetch, close } = fetchFor({ proxyUrl: t.proxyUrl, ca: caPem });
  try {
    const res = await fetch(`https://${host}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'sk-ant-user-own', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 20, messages: [{ role: 'user', content: 'hello' }] }),
    });
    await res.text();
    return res.status;
  } catch (err) {
    return String((err as { cause?: Error }).cause?.message ?? err);
  } finally {
    await close();
  }
}

/** The audit records of `host`, after a flush. */
function recordsOf(t: TestAgent, host: string) {
  t.agent.store.audit.flushNow();
  return t.agent.store.audit.recordsAfter(0).filter((r) => r.host === host);
}

describe('the CA covers the policy in force, however it arrived', () => {
  const open: TestAgent[] = [];
  afterEach(async () => {
    for (const t of open.splice(0).reverse()) await t.close();
  });
  const track = (t: TestAgent): TestAgent => {
    open.push(t);
    return t;
  };

  it('a host added while the agent was stopped is governed from the first request after start', async () => {
    const first = track(await startTestAgent({ policy: policy(1, [OPENAI]) }));
    expect(first.agent.status().ca.permittedDns).toEqual([OPENAI]);
    await first.stopAgent();
    // The administrator's edit while the agent is down (startTestAgent writes it to policy.json).
    const again = track(await startTestAgent({ home: first.home, policy: policy(2, [OPENAI, ANTHROPIC]), provider: { provider: first.provider, ca: first.upstreamCa } }));
    const status = again.agent.status();
    expect(status.ca.permittedDns).toEqual([ANTHROPIC, OPENAI]);
    expect(status.ca.coverage).toEqual({ uncovered: [], reason: null });
    // Same key and subject as before: a client holding either root's copy verifies the new leaves.
    expect(again.caPem).not.toBe(first.caPem);
    expect(await anthropicThrough(again, again.caPem)).toBe(200);
    expect(recordsOf(again, ANTHROPIC)).toEqual([expect.objectContaining({ kind: 'request', decision: 'allow', status: 200 })]);
    expect(again.agent.proxy.stats()).toMatchObject({ tunnelled: 0 });
  });

  it('a gateway-managed agent starting on its stored policy: the CA covers it from the first request', async () => {
    const first = track(await startTestAgent({ policy: policy(1, [OPENAI]) }));
    const config = first.agent.config;
    await first.stopAgent();
    // The last policy the gateway sent, kept in the store (what a managed agent resumes offline).
    const store = openAgentStore(config, { uploads: true });
    store.state.saveLastGoodPolicy(policySchema.parse(policy(7, [OPENAI, ANTHROPIC])), 'gateway');
    await store.close();

    const managed = track(await startTestAgent({ home: first.home, config: { gateway: { url: 'https://gateway.example.test' } }, provider: { provider: first.provider, ca: first.upstreamCa } }));
    expect(managed.agent.policy()).toMatchObject({ source: 'store (last good, from gateway)', policy: { version: 7 } });
    expect(managed.agent.status().ca).toMatchObject({ permittedDns: [ANTHROPIC, OPENAI], coverage: { uncovered: [] } });
    expect(await anthropicThrough(managed, managed.caPem)).toBe(200);
  });

  it('a client that kept the old root still reaches the hosts it covered, and is refused the new host by name constraints', async () => {
    const first = track(await startTestAgent({ policy: policy(1, [OPENAI]) }));
    const oldRoot = first.caPem;
    await first.agent.applyPolicy(policySchema.parse(policy(2, [OPENAI, ANTHROPIC])), 'gateway');
    const newRoot = await fs.readFile(first.agent.ca.caFile, 'utf8');
    expect(newRoot).not.toBe(oldRoot);
    expect(await anthropicThrough(first, newRoot)).toBe(200);
    // The old root (same key, narrower constraints): a leaf for the new host violates them.
    expect(String(await anthropicThrough(first, oldRoot))).toMatch(/name constraint|permitted subtree|not permitted/i);
    const { client: fetch, close } = fetchFor({ proxyUrl: first.proxyUrl, ca: oldRoot });
    try {
      const res = await fetch(`https://${OPENAI}/v1/models`, { headers: { authorization: 'Bearer sk-user-own' } });
      expect(res.status).toBe(200);
      await res.text();
    } finally {
      await close();
    }
  });

  it('a policy pushed by the gateway, then a rollback: widened at once, kept wider on the rollback without a new root', async () => {
    const t = track(await startTestAgent({ policy: policy(1, [OPENAI]) }));
    // What the sync client calls with a verified policy from the gateway.
    await t.agent.applyPolicy(policySchema.parse(policy(2, [OPENAI, ANTHROPIC, `*.openai.azure.com`])), 'gateway');
    expect(t.agent.policy().source).toBe('gateway');
    const widened = await fs.readFile(t.agent.ca.caFile, 'utf8');
    expect(t.agent.status().ca.permittedDns).toEqual([ANTHROPIC, OPENAI, 'openai.azure.com']);
    expect(await anthropicThrough(t, widened)).toBe(200);

    // A rollback to v1 drops hosts: the root stays as it is (no re-trust prompt for no new host).
    await t.agent.applyPolicy(policySchema.parse(policy(1, [OPENAI])), 'gateway (rollback)');
    expect(await fs.readFile(t.agent.ca.caFile, 'utf8')).toBe(widened);
    expect(t.agent.status().ca).toMatchObject({ permittedDns: [ANTHROPIC, OPENAI, 'openai.azure.com'], retrust: { pending: [], command: null } });
    // The dropped host is no longer governed: its traffic is tunnelled, the agent's root no longer meets it.
    expect(String(await anthropicThrough(t, widened))).toMatch(/certificate|self.signed|unable to verify/i);
    expect(t.agent.proxy.stats().tunnelled).toBe(1);
  });

  it('a wildcard host added at restart covers every name below it', async () => {
    const first = track(await startTestAgent({ policy: policy(1, [OPENAI]) }));
    await first.stopAgent();
    const again = track(await startTestAgent({ home: first.home, policy: policy(2, [OPENAI, '*.openai.azure.com']), provider: { provider: first.provider, ca: first.upstreamCa } }));
    expect(again.agent.status().ca.permittedDns).toEqual([OPENAI, 'openai.azure.com']);
    const { client: fetch, close } = fetchFor({ proxyUrl: again.proxyUrl, ca: again.caPem });
    try {
      const res = await fetch(`https://${FAKE_AZURE_HOST}/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'api-key': 'azure-user-own' },
        body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(res.status).toBe(200);
      await res.text();
    } finally {
      await close();
    }
    expect(recordsOf(again, FAKE_AZURE_HOST)).toEqual([expect.objectContaining({ kind: 'request', status: 200 })]);
  });
});
