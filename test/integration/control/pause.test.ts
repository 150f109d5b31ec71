/**
 * `POST /v1/pause` and `POST /v1/resume` of a real running agent: refused when policy does not allow
 * it or for longer than it allows; while paused, a request through the proxy reaches the provider
 * untouched (tunnelled: the client's own key, no record) and the status says until when; after
 * resume, requests are governed again (the virtual key swapped, a record written).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAiClient } from '../../support/clients.js';
import { startTestAgent, type TestAgent } from '../../support/agent.js';
import { agentStatus } from '../../../shared/schema/control.js';
import type { PolicyInput } from '../../../shared/schema/policy.js';

const VK = 'ovk-pause-0123456789';
const POLICY = (allowed: boolean): PolicyInput => ({
  version: 1,
  name: 'pause',
  interception: { hosts: ['api.openai.com'] },
  pause: { allowed, maxMinutes: 60 },
  virtualKeys: [{ id: 'vk-pause', key: VK, owner: 'org', providerKeys: { openai: 'keychain:openai-pause' } }],
});

async function controlToken(t: TestAgent): Promise<string> {
  return (await fs.readFile(path.join(t.home, 'control.token'), 'utf8')).trim();
}

describe('pausing interception from the tray', () => {
  let t: TestAgent;
  let token: string;
  const post = (route: string, body?: unknown): Promise<Response> =>
    fetch(`${t.agent.control.url}${route}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const status = async (): Promise<ReturnType<typeof agentStatus.parse>> =>
    agentStatus.parse(await (await fetch(`${t.agent.control.url}/v1/status`, { headers: { authorization: `Bearer ${token}` } })).json());
  async function send(): Promise<void> {
    // It trusts the agent's CA and, for the tunnelled case, the provider's own.
    const sdk = openAiClient({ proxyUrl: t.proxyUrl, ca: `${t.caPem}\n${t.upstreamCa.caPem}`, maxRetries: 0, apiKey: VK });
    await sdk.client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] });
    await sdk.close();
  }
  const records = (): number => {
    t.agent.store.audit.flushNow();
    return t.agent.store.audit.recordsAfter(0).filter((r) => r.kind === 'request').length;
  };

  beforeAll(async () => {
    t = await startTestAgent({ policy: POLICY(true) });
    await t.agent.ca.keychain.set('secret:openai-pause', 'sk-real-pause');
    token = await controlToken(t);
  });
  afterAll(async () => t?.close());

  it('refuses a pause longer than policy allows, and a malformed one, naming why', async () => {
    const long = await post('/v1/pause', { minutes: 120 });
    expect(long.status).toBe(403);
    expect(JSON.stringify(await long.json())).toContain('at most 60 minutes');
    const bad = await post('/v1/pause', { minutes: 'soon' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain('minutes');
    expect((await status()).paused ?? null).toBeNull();
  });

  it('while paused, traffic passes untouched; after resume it is governed again', async () => {
    await send();
    expect(t.provider.requests.at(-1)?.headers.authorization).toBe('Bearer sk-real-pause');
    const governed = records();

    const res = await post('/v1/pause', { minutes: 15 });
    expect(res.status).toBe(200);
    const now = await status();
    expect(now.state).toBe('paused');
    const paused = now.paused;
    expect(paused?.by).toMatch(/^user /);
    const minutesLeft = (Date.parse(paused?.until ?? '') - Date.now()) / 60_000;
    expect(minutesLeft).toBeGreaterThan(14);
    expect(minutesLeft).toBeLessThanOrEqual(15);

    // A new client (new connection): tunnelled, so the provider sees the client's own key and no record is written.
    await send();
    expect(t.provider.requests.at(-1)?.headers.authorization).toBe(`Bearer ${VK}`);
    expect(records()).toBe(governed);

    expect((await post('/v1/resume')).status).toBe(200);
    const resumed = await status();
    expect(resumed.paused ?? null).toBeNull();
    expect(resumed.state).toBe(resumed.degraded.length > 0 ? 'degraded' : 'protected');
    await send();
    expect(t.provider.requests.at(-1)?.headers.authorization).toBe('Bearer sk-real-pause');
    expect(records()).toBe(governed + 1);
  });
});

describe('pausing where policy does not allow it', () => {
  let t: TestAgent;
  beforeAll(async () => {
    t = await startTestAgent({ policy: POLICY(false) });
  });
  afterAll(async () => t?.close());

  it('is refused with a reason a person understands', async () => {
    const res = await fetch(`${t.agent.control.url}/v1/pause`, { method: 'POST', headers: { authorization: `Bearer ${await controlToken(t)}` }, body: JSON.stringify({ minutes: 15 }) });
    expect(res.status).toBe(403);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('pause_not_allowed');
    expect(body.error.message).toContain('does not allow pausing');
  });
});
