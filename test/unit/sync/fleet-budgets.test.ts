/**
 * The agent's side of fleet budgets over the core's real ledger: `budget.state` caps this device at
 * its grant; a refusal for want of grant asks the gateway (`needUsd`) only when the fleet has room,
 * concurrent refusals share one ask, and the answer releases them; spend is reported only when it changed.
 */
import { describe, expect, it } from 'vitest';
import { BudgetLedger, type BudgetLevel } from '../../../shared/core/budgets.js';
import { periodStart } from '../../../shared/core/periods.js';
import { FleetBudgets } from '../../../agent/sync/fleet-budgets.js';
import { PROTOCOL_V, type AgentMessage, type BudgetStateMessage } from '../../../shared/schema/protocol.js';

const level: BudgetLevel = { id: 'vk:a', scope: 'vk:a', limitUsd: 10, period: '1d' };

describe('FleetBudgets', () => {
  it('caps at the grant, asks for more only when the fleet has room, and shares one ask', async () => {
    const ledger = new BudgetLedger();
    const sent: AgentMessage[] = [];
    const budgets = new FleetBudgets({ ledger, send: (m) => (sent.push(m), true), askTimeoutMs: 60_000 });
    const windowStart = periodStart('1d', Date.now());
    const state = (grantUsd: number, unallocatedUsd: number): BudgetStateMessage => ({
      v: '1.0',
      type: 'budget.state',
      windows: [{ id: 'vk:a', period: '1d', windowStart, limitUsd: 10, fleetSpentUsd: 0, deviceSpentUsd: 0, grantUsd, unallocatedUsd }],
    });

    budgets.received(state(1, 0.5));
    const refused = ledger.reserve([level], 1.2, Date.now());
    expect(refused).toMatchObject({ ok: false, reason: 'grant' });
    // Headroom 1 + unallocated 0.5 < 2: asking is useless.
    expect(budgets.ask({ id: 'vk:a', period: '1d', reason: 'grant', estimateUsd: 2 })).toBeNull();
    expect(sent).toHaveLength(0);

    const first = budgets.ask({ id: 'vk:a', period: '1d', reason: 'grant', estimateUsd: 1.2 });
    const second = budgets.ask({ id: 'vk:a', period: '1d', reason: 'grant', estimateUsd: 1.2 });
    expect(first).not.toBeNull();
    expect(second).toBe(first);
    expect(sent).toEqual([{ v: PROTOCOL_V, type: 'usage.report', windows: [{ id: 'vk:a', period: '1d', windowStart, spentUsd: 0, needUsd: 1.2 }] }]);
    budgets.received(state(1.5, 0));
    await first;
    expect(ledger.reserve([level], 1.2, Date.now()).ok).toBe(true);

    // Reports carry the cumulative spend, once per change.
    budgets.report();
    expect(sent).toHaveLength(1); // nothing spent yet
    ledger.charge([level], 0.7, Date.now(), Date.now());
    budgets.report();
    budgets.report();
    expect(sent.slice(1)).toEqual([{ v: PROTOCOL_V, type: 'usage.report', windows: [{ id: 'vk:a', period: '1d', windowStart, spentUsd: 0.7 }] }]);
    budgets.stop();
  });
});
