/**
 * Gateway mode (issue 12.5), real agent, real gateway, fake provider: a virtual key whose provider
 * key is `gateway:NAME` is decided on the laptop (guardrails first), then forwarded through the
 * gateway, which checks the key and injects the provider key it holds; the key never reaches the
 * laptop, and the request is recorded once (the agent's record, uploaded), not twice. The gateway's
 * own checks refuse an unknown virtual key and a host that is not the provider's (the key cannot be
 * sent elsewhere); an agent not enrolled refuses such a key with a clear reason.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { openAiClient } from '../../support/clients.js';
import { createTestCa, type TestCa } from '../../support/test-ca.js';
import { startFakeProvider, type FakeProvider } from '../../support/fake-provider.js';
import { startTestAgent, type TestAgent } from '../../support/agent.js';
import { EnrollmentStore } from '../../../agent/sync/enrollment.js';
import { FORWARD_HEADERS } from '../../../shared/protocol/gateway-forward.js';
import { allAcknowledged, connected, enrolledHome, policyHandled, startSyncedAgent, syncOf } from './support.js';

const VK = 'ovk-gateway-mode-0123456789';
const HELD = 'sk-held-by-the-gateway-only';
const POLICY = {
  version: 1,
  name: 'gateway mode',
  interception: { hosts: ['api.openai.com'] },
  virtualKeys: [{ id: 'vk-gw', key: VK, owner: 'team:eng', providerKeys: { openai: 'gateway:openai-prod' } }],
  guardrails: [{ id: 'pii', type: 'pii', entities: ['email'], on: ['input'], action: 'block' }],
};

async function filesContaining(dir: string, needle: string): Promise<string[]> {
  const hits: string[] = [];
  for (const entry of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    if ((await fs.readFile(file)).includes(needle)) hits.push(file);
  }
  return hits;
}

describe('gateway mode', () => {
  let dir: string;
  let gw: TestGateway;
  let ca: TestCa;
  let provider: FakeProvider;
  let home: string;
  let t: TestAgent;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-gateway-mode-'));
    ca = await createTestCa();
    provider = await startFakeProvider({ ca });
    await fs.writeFile(path.join(dir, 'openai.key'), `${HELD}\n`, { mode: 0o600 });
    gw = await startTestGateway({ providerKeys: { 'openai-prod': { file: path.join(dir, 'openai.key') } }, upstream: { resolve: provider.resolveMap(), caFile: ca.caFile } });
    await gw.admin('PUT', '/admin/v1/policy', POLICY);
    home = await enrolledHome(gw);
    // The agent trusts no provider CA of its own here: only the gateway reaches the provider.
    t = await startSyncedAgent(home, { provider: { provider, ca } });
    await connected(syncOf(t));
    await policyHandled(syncOf(t), 1);
  });
  afterAll(async () => {
    await t?.close();
    await gw?.close();
    await provider?.close();
    await ca?.dispose();
    for (const d of [dir, home]) if (d) await fs.rm(d, { recursive: true, force: true });
  });

  function client(agent: TestAgent = t): ReturnType<typeof openAiClient> {
    return openAiClient({ proxyUrl: agent.proxyUrl, ca: agent.caPem, maxRetries: 0, apiKey: VK });
  }

  it('forwards through the gateway, which injects the key it holds; recorded once; the key never on the laptop', async () => {
    const before = provider.requests.length;
    const sdk = client();
    try {
      const answer = await sdk.client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello through the gateway' }] });
      expect(answer.choices[0]?.message.content).toContain('hello through the gateway');
    } finally {
      await sdk.close();
    }
    expect(provider.requests.length).toBe(before + 1);
    const seen = provider.requests.at(-1)!;
    expect(seen.headers.authorization).toBe(`Bearer ${HELD}`);
    expect(Object.keys(seen.headers).filter((h) => h.startsWith('x-outpost-'))).toEqual([]);

    await allAcknowledged(t);
    const local = t.agent.store.audit.recordsAfter(0).filter((r) => r.kind === 'request');
    expect(local).toHaveLength(1);
    expect(local[0]).toMatchObject({ principal: 'vk:vk-gw', decision: 'allow', status: 200 });
    const remote = (await gw.admin('GET', `/admin/v1/audit?device=${syncOf(t).status().deviceId}&limit=1000`)).body.records as Array<{ id: string; kind: string }>;
    expect(remote.filter((r) => r.kind === 'request').map((r) => r.id)).toEqual([local[0]!.id]);

    expect(await filesContaining(home, HELD)).toEqual([]);
  });

  it('runs the local guardrails first: a blocked request never reaches the gateway', async () => {
    const before = provider.requests.length;
    const sdk = client();
    try {
      await expect(sdk.client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'write to ada@example.org' }] })).rejects.toMatchObject({ status: 403 });
    } finally {
      await sdk.close();
    }
    expect(provider.requests.length).toBe(before);
  });

  it('the gateway checks for itself: an unknown virtual key, and a host that is not the provider\'s, are refused', async () => {
    const keychain = t.agent.ca.keychain;
    const enrollment = (await new EnrollmentStore(home, keychain).load())!;
    const forward = (host: string, vk: string): Promise<Response> =>
      fetch(`${gw.url}/v1/agents/forward/${host}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer outpost-gateway-provider-key', [FORWARD_HEADERS.deviceCredential]: enrollment.credential, [FORWARD_HEADERS.virtualKey]: vk },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
      });
    const before = provider.requests.length;
    const unknown = await forward('api.openai.com', 'ovk-not-a-key-000000');
    expect(unknown.status).toBe(401);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('invalid_virtual_key');
    const elsewhere = await forward('collector.example.net', VK);
    expect(elsewhere.status).toBe(403);
    const text = await elsewhere.text();
    expect(text).toContain('not an AI API endpoint');
    expect(text).not.toContain(HELD);
    const noDevice = await fetch(`${gw.url}/v1/agents/forward/api.openai.com/v1/chat/completions`, { method: 'POST', headers: { [FORWARD_HEADERS.virtualKey]: VK }, body: '{}' });
    expect(noDevice.status).toBe(401);
    expect(provider.requests.length).toBe(before);
  });

  it('an agent that is not enrolled refuses such a key, saying why', async () => {
    const standalone = await startTestAgent({ policy: POLICY as never, provider: { provider, ca } });
    try {
      const sdk = client(standalone);
      try {
        await expect(sdk.client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({ status: 503 });
      } finally {
        await sdk.close();
      }
    } finally {
      await standalone.close();
    }
  });
});
