/**
 * `GET /v1/budgets` of a real running agent: the org budget and a virtual key's own budget, with
 * spend that moves as requests go through the proxy (the official SDK, real TLS), the keys this user
 * may pick (not another team's), and the window's end.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAiClient } from '../../support/clients.js';
import { startTestAgent, type TestAgent } from '../../support/agent.js';
import { budgetsView, type BudgetsView } from '../../../shared/schema/control.js';

const VK = 'ovk-budgets-0123456789';

describe('the control API budgets view', () => {
  let t: TestAgent;
  let token: string;

  async function budgets(): Promise<BudgetsView> {
    const res = await fetch(`${t.agent.control.url}/v1/budgets`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    return budgetsView.parse(await res.json());
  }
  function spent(view: BudgetsView, principal: string, budget: string): number {
    const b = view.principals.find((p) => p.id === principal)?.budgets.find((x) => x.id === budget);
    if (b === undefined) throw new Error(`no budget ${budget} for ${principal}`);
    return b.spentUsd;
  }

  beforeAll(async () => {
    t = await startTestAgent({
      policy: {
        version: 1,
        name: 'budgets',
        interception: { hosts: ['api.openai.com'] },
        budgets: [{ id: 'company', scope: 'org', limitUsd: 100, period: '1M' }],
        virtualKeys: [
          { id: 'vk-mine', key: VK, owner: 'org', providerKeys: { openai: 'keychain:openai-budgets' }, budget: { limitUsd: 5, period: '1d' } },
          { id: 'vk-other-team', key: 'ovk-other-team-0123456789', owner: 'team:finance' },
        ],
      },
    });
    await t.agent.ca.keychain.set('secret:openai-budgets', 'sk-real-budgets');
    token = (await fs.readFile(path.join(t.home, 'control.token'), 'utf8')).trim();
  });
  afterAll(async () => t?.close());

  it('lists the budgets that apply and the keys this user may pick', async () => {
    const view = await budgets();
    expect(view.virtualKeys.map((k) => k.id)).toEqual(['vk-mine']);
    expect(view.principals.map((p) => p.kind)).toEqual(['user', 'virtual-key']);
    const key = view.principals.find((p) => p.id === 'vk:vk-mine');
    expect(key?.budgets.map((b) => b.id).sort()).toEqual(['company', 'vk:vk-mine']);
    const own = key?.budgets.find((b) => b.id === 'vk:vk-mine');
    expect(own).toMatchObject({ limitUsd: 5, period: '1d', spentUsd: 0 });
    expect(Date.parse(own?.resetsAt ?? '')).toBeGreaterThan(Date.now());
  });

  it('moves the bars as requests are charged: the key and the org, not the user without a key', async () => {
    const before = await budgets();
    const sdk = openAiClient({ proxyUrl: t.proxyUrl, ca: t.caPem, maxRetries: 0, apiKey: VK });
    await sdk.client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello budget' }] });
    await sdk.close();
    const after = await budgets();
    expect(spent(after, 'vk:vk-mine', 'vk:vk-mine')).toBeGreaterThan(spent(before, 'vk:vk-mine', 'vk:vk-mine'));
    expect(spent(after, 'vk:vk-mine', 'company')).toBeGreaterThan(spent(before, 'vk:vk-mine', 'company'));
    const user = after.principals.find((p) => p.kind === 'user');
    expect(user?.budgets.find((b) => b.id === 'company')?.spentUsd).toBe(spent(after, 'vk:vk-mine', 'company'));
  });
});
