/**
 * Fleet-scoped rate limits (policy `rateLimit.scope: "fleet"`), three real agents and a real
 * gateway: the gateway gives each connected device an equal share, so the virtual key's 30 requests
 * per minute hold across the three (10 each), where a device-scoped limit would allow 30 on each.
 */
import fs from 'node:fs/promises';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { openAiClient } from '../../support/clients.js';
import { createTestCa, type TestCa } from '../../support/test-ca.js';
import { startFakeProvider, type FakeProvider } from '../../support/fake-provider.js';
import type { TestAgent } from '../../support/agent.js';
import { connected, enrolledHome, policyHandled, startSyncedAgent, syncOf } from './support.js';

const VK = 'ovk-rate-0123456789';

describe('a fleet-scoped rate limit across three real agents', () => {
  let gw: TestGateway;
  let ca: TestCa;
  let provider: FakeProvider;
  const agents: TestAgent[] = [];
  const homes: string[] = [];

  beforeAll(async () => {
    gw = await startTestGateway();
    ca = await createTestCa();
    provider = await startFakeProvider({ ca });
    await gw.admin('PUT', '/admin/v1/policy', {
      version: 1,
      name: 'fleet rate',
      interception: { hosts: ['api.openai.com'] },
      virtualKeys: [{ id: 'vk-rate', key: VK, owner: 'team:eng', providerKeys: { openai: 'keychain:openai-rate' }, rateLimit: { requestsPerMinute: 30, scope: 'fleet' } }],
    });
    for (let i = 0; i < 3; i++) {
      const home = await enrolledHome(gw);
      homes.push(home);
      const t = await startSyncedAgent(home, { provider: { provider, ca } });
      await t.agent.ca.keychain.set('secret:openai-rate', 'sk-real-rate');
      agents.push(t);
      await connected(syncOf(t));
      await policyHandled(syncOf(t), 1);
    }
  });
  afterAll(async () => {
    for (const t of agents) await t.close();
    await gw?.close();
    await provider?.close();
    await ca?.dispose();
    for (const h of homes) await fs.rm(h, { recursive: true, force: true });
  });

  /** Requests until the first 429; the admitted requests' minutes (UTC, epoch minutes). */
  async function untilLimited(t: TestAgent): Promise<number[]> {
    const sdk = openAiClient({ proxyUrl: t.proxyUrl, ca: t.caPem, maxRetries: 0, apiKey: VK });
    try {
      for (let i = 0; i < 100; i++) {
        try {
          await sdk.client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
        } catch (err) {
          expect((err as { status?: number }).status).toBe(429);
          break;
        }
      }
    } finally {
      await sdk.close();
    }
    t.agent.store.audit.flushNow();
    return t.agent.store.audit
      .recordsAfter(0)
      .filter((r) => r.kind === 'request' && r.status === 200)
      .map((r) => Math.floor(Date.parse(r.time) / 60_000));
  }

  it('each device holds a third of the limit, so the fleet stays within it', async () => {
    for (const t of agents) {
      const sync = syncOf(t);
      while (sync.rateShare?.devices !== 3) await once(sync, 'rate');
      expect(sync.rateShare.share).toBeCloseTo(1 / 3, 9);
    }
    const minutes = await Promise.all(agents.map(untilLimited));
    for (const admitted of minutes) {
      const perMinute = new Map<number, number>();
      for (const m of admitted) perMinute.set(m, (perMinute.get(m) ?? 0) + 1);
      // Within any one minute a device admits at most its share; the minute it stopped in, exactly that.
      expect(Math.max(...perMinute.values())).toBe(10);
      expect(perMinute.get(Math.max(...admitted))).toBe(10);
    }
  });
});
