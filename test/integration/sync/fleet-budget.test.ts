/**
 * A budget shared by three real agents (issue 12.4): one virtual key with one daily budget, in the
 * gateway's signed policy; each agent enforces it with the grant and the fleet's spend from
 * `budget.state` and reports its own spend after each request. All three spend at once through
 * their own proxies until refused: the fleet's total overshoots the limit by at most one request's
 * cost per device.
 */
import fs from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { openAiClient } from '../../support/clients.js';
import { createTestCa, type TestCa } from '../../support/test-ca.js';
import { startFakeProvider, type FakeProvider } from '../../support/fake-provider.js';
import type { TestAgent } from '../../support/agent.js';
import { periodStart } from '../../../shared/core/periods.js';
import { connected, enrolledHome, policyHandled, startSyncedAgent, syncOf } from './support.js';

const VK = 'ovk-shared-0123456789';
const LIMIT = 0.2;
const PROMPT = 'Summarise the quarterly numbers for the board, keeping every figure. '.repeat(12);

describe('a fleet budget across three real agents', () => {
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
      name: 'shared budget',
      interception: { hosts: ['api.openai.com'] },
      virtualKeys: [{ id: 'vk-shared', key: VK, owner: 'team:eng', providerKeys: { openai: 'keychain:openai-shared' }, budget: { limitUsd: LIMIT, period: '1d' } }],
    });
    for (let i = 0; i < 3; i++) {
      const home = await enrolledHome(gw);
      homes.push(home);
      const t = await startSyncedAgent(home, { provider: { provider, ca } });
      await t.agent.ca.keychain.set('secret:openai-shared', 'sk-real-shared');
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

  /** Sends requests one after another until the agent refuses one for the budget; the costs it recorded. */
  async function spendUntilRefused(t: TestAgent): Promise<number[]> {
    const sdk = openAiClient({ proxyUrl: t.proxyUrl, ca: t.caPem, maxRetries: 0, apiKey: VK });
    try {
      for (let i = 0; i < 500; i++) {
        try {
          await sdk.client.chat.completions.create({ model: 'gpt-4o', max_tokens: 400, messages: [{ role: 'user', content: PROMPT }] });
        } catch (err) {
          expect((err as { status?: number }).status).toBe(402);
          break;
        }
      }
    } finally {
      await sdk.close();
    }
    t.agent.store.audit.flushNow();
    return t.agent.store.audit
      .recordsAfter(0)
      .filter((r) => r.kind === 'request' && r.decision !== 'block' && (r.costUsd ?? 0) > 0)
      .map((r) => r.costUsd ?? 0);
  }

  it('three agents, one virtual key, one budget: the total overshoots by at most one request per device', async () => {
    for (const t of agents) expect(syncOf(t).budgets).not.toBeNull();
    const costs = await Promise.all(agents.map(spendUntilRefused));
    const total = costs.flat().reduce((s, c) => s + c, 0);
    const maxCost = Math.max(...costs.flat());
    expect(costs.every((c) => c.length > 0)).toBe(true);
    expect(total).toBeLessThanOrEqual(LIMIT + agents.length * maxCost);
    // The budget was used, not refused from the start.
    expect(total).toBeGreaterThan(LIMIT / 2);
    // The gateway's fleet total is the agents' own spend (each reported it).
    for (;;) {
      const [w] = await gw.gateway.store.fleetWindows([{ id: 'vk:vk-shared', period: '1d', windowStart: periodStart('1d', Date.now()) }], 0);
      if (w !== undefined && Math.abs(w.totalUsd - total) < 1e-9) break;
      await new Promise((resolve) => syncOf(agents[0]!).once('budget', resolve));
    }
  });
});
