/**
 * `GET /admin/v1/budgets` (the console's overview, issue 17.1): each fleet budget of the current
 * policy with its limit and the fleet's spend in the current window, from a real device's
 * `usage.report` over the sync protocol.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { periodStart } from '../../../shared/core/periods.js';
import { PROTOCOL_V } from '../../../shared/schema/protocol.js';
import { SimAgent, startTestGateway, type TestGateway } from '../../support/gateway.js';

describe('the budgets of the admin API', () => {
  let gw: TestGateway;
  let agent: SimAgent;
  beforeAll(async () => {
    gw = await startTestGateway({ adminToken: 'budgets-api-admin-token-0123456789' });
    agent = await SimAgent.connect(gw.url, await gw.enroll({ hostname: 'budget-laptop' }));
  });
  afterAll(async () => {
    agent?.close();
    await gw?.close();
  });

  it('lists each fleet budget with its limit and what the fleet spent this window', async () => {
    expect((await gw.admin('GET', '/admin/v1/budgets')).body).toEqual({ policyVersion: null, budgets: [] });
    await gw.admin('PUT', '/admin/v1/policy', {
      version: 1,
      name: 'budgets',
      virtualKeys: [{ id: 'vk-eng', key: 'ovk-eng-0123456789abcdef', owner: 'team:eng', budget: { limitUsd: 50, period: '1M' } }],
      budgets: [{ id: 'everyone-daily', scope: 'org', limitUsd: 20, period: '1d' }],
    });
    const now = Date.now();
    agent.send({ v: PROTOCOL_V, type: 'usage.report', windows: [{ id: 'everyone-daily', period: '1d', windowStart: periodStart('1d', now), spentUsd: 4.25 }] });
    // The gateway answers a report that changed a window's total with that window's state.
    await agent.until('budget.state', (m) => m.windows.some((w) => w.id === 'everyone-daily' && w.fleetSpentUsd >= 4.25));
    const { status, body } = await gw.admin('GET', '/admin/v1/budgets');
    expect(status).toBe(200);
    expect(body).toEqual({
      policyVersion: 1,
      budgets: [
        { id: 'vk:vk-eng', period: '1M', limitUsd: 50, spentUsd: 0, windowStart: new Date(periodStart('1M', now)).toISOString(), windowEnd: expect.any(String) },
        { id: 'everyone-daily', period: '1d', limitUsd: 20, spentUsd: 4.25, windowStart: new Date(periodStart('1d', now)).toISOString(), windowEnd: new Date(periodStart('1d', now) + 86_400_000).toISOString() },
      ],
    });
  });
});
