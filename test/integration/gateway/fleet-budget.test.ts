/**
 * A budget shared by many devices holds across them (issue 12.4): three agents, one virtual key with
 * a $1 daily budget, each running the core's real `BudgetLedger` fed by the gateway's `budget.state`
 * and reporting its spend after each request, all spending at once through a real HTTP "provider".
 * The total overshoots the limit by at most one request's cost per device.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { periodStart } from '../../../shared/core/periods.js';
import { BudgetLedger, type BudgetLevel } from '../../../shared/core/budgets.js';
import { PROTOCOL_V, type BudgetStateMessage } from '../../../shared/schema/protocol.js';
import { SimAgent, startTestGateway, type TestGateway } from '../../support/gateway.js';

const LIMIT = 1;
const level: BudgetLevel = { id: 'vk:vk-shared', scope: 'vk:vk-shared', limitUsd: LIMIT, period: '1d' };
let gw: TestGateway;
let provider: http.Server;
let providerUrl: string;

beforeAll(async () => {
  gw = await startTestGateway();
  await gw.admin('PUT', '/admin/v1/policy', {
    version: 1,
    name: 'shared budget',
    virtualKeys: [{ id: 'vk-shared', key: 'ovk-shared-0123456789', owner: 'team:eng', budget: { limitUsd: LIMIT, period: '1d' } }],
  });
  // The "provider": each answer names the request's cost (2 to 6 cents).
  provider = http.createServer((_req, res) => res.end(String(0.02 + Math.random() * 0.04)));
  await new Promise<void>((resolve) => provider.listen(0, '127.0.0.1', resolve));
  providerUrl = `http://127.0.0.1:${(provider.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await gw.close();
  await new Promise((resolve) => provider.close(resolve));
});

/**
 * One simulated agent, as the real one enforces a fleet budget: each request reserves its estimate in
 * the ledger (own spend within the grant, others' spend counted), settles its real cost and reports;
 * a refusal asks the gateway for more (`needUsd`) unless the fleet has nothing left to grant.
 */
async function spendUntilRefused(agent: SimAgent): Promise<{ spent: number; maxCost: number; requests: number }> {
  const ledger = new BudgetLedger();
  let applied = 0;
  let latest: BudgetStateMessage['windows'][number] | undefined;
  const apply = (): void => {
    for (; applied < agent.received.length; applied++) {
      const m = agent.received[applied]!;
      if (m.type !== 'budget.state') continue;
      for (const w of (m as BudgetStateMessage).windows) {
        ledger.setFleetWindow(w.id, w.period, w.windowStart, w, Date.now());
        if (w.id === level.id) latest = w;
      }
    }
  };
  const own = (): number => ledger.usage(level, Date.now()).spentUsd;
  let maxCost = 0;
  let requests = 0;
  let cost = Number(await (await fetch(providerUrl)).text());
  for (;;) {
    apply();
    // The agent knows only an estimate before the request (tokens are counted after): 80 % here.
    const estimate = cost * 0.8;
    const ticket = ledger.reserve([level], estimate, Date.now());
    if (!ticket.ok) {
      const spent = own();
      const headroom = Math.max(0, (latest?.grantUsd ?? 0) - spent);
      if (latest !== undefined && headroom + (latest.unallocatedUsd ?? 0) < estimate) {
        // Done: once the gateway has stored this device's last report.
        if (latest.deviceSpentUsd !== spent) await agent.until('budget.state', (m) => m.windows.some((w) => w.id === level.id && w.deviceSpentUsd === spent));
        return { spent, maxCost, requests };
      }
      const mark = agent.received.length;
      agent.send({ v: PROTOCOL_V, type: 'usage.report', windows: [{ ...ledger.exportState().windows.find((w) => w.id === level.id)!, needUsd: estimate }] });
      // The direct answer is the first state after the ask that carries this device's spend.
      await agent.until('budget.state', (m) => agent.received.indexOf(m) >= mark && m.windows.some((w) => w.id === level.id && w.deviceSpentUsd === spent));
      continue;
    }
    // The request itself: the provider's answer names the next request's cost.
    cost = Number(await (await fetch(providerUrl)).text());
    const actual = estimate / 0.8;
    ledger.settle(ticket, actual);
    maxCost = Math.max(maxCost, actual);
    requests++;
    agent.send({ v: PROTOCOL_V, type: 'usage.report', windows: ledger.exportState().windows });
  }
}

describe('a fleet budget', () => {
  it('three agents, one virtual key, one budget: the total overshoots by at most one request per device', async () => {
    const agents = await Promise.all([0, 1, 2].map(async () => SimAgent.connect(gw.url, await gw.enroll())));
    // Each agent holds a grant before its first request.
    for (const a of agents) {
      const first = await a.next('budget.state');
      expect(first.windows.find((w) => w.id === level.id)?.grantUsd).toBeGreaterThan(0);
    }
    const results = await Promise.all(agents.map(spendUntilRefused));
    const total = results.reduce((s, r) => s + r.spent, 0);
    const maxCost = Math.max(...results.map((r) => r.maxCost));
    expect(total).toBeLessThanOrEqual(LIMIT + agents.length * maxCost);
    // And the budget is used, not stranded in unused grants: each device stops within one request of its grant.
    expect(total).toBeGreaterThan(LIMIT - agents.length * maxCost);
    expect(results.every((r) => r.requests > 0)).toBe(true);
    const spend = await gw.gateway.store.fleetWindows([{ id: level.id, period: '1d', windowStart: periodStart('1d', Date.now()) }], 0);
    expect(spend[0]?.totalUsd).toBeCloseTo(total, 9);
    for (const a of agents) a.close();
  });
});
