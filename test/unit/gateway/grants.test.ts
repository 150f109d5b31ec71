import { describe, expect, it } from 'vitest';
import { nextGrant, unallocated } from '../../../gateway/budgets/grants.js';
import type { GrantWindow } from '../../../gateway/store/fleet-windows.js';
import { BudgetLedger, type BudgetLevel } from '../../../shared/core/budgets.js';
import { periodStart } from '../../../shared/core/periods.js';

describe('fleet budget grants', () => {
  it('never grants more than the limit in total, over thousands of random reports and asks', () => {
    let seed = 7;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let run = 0; run < 200; run++) {
      const limitUsd = 0.5 + random() * 10;
      const spent = new Map<string, number>();
      const caps = new Map<string, number>();
      const devices = Array.from({ length: 1 + Math.floor(random() * 6) }, (_, i) => `d${i}`);
      for (let step = 0; step < 50; step++) {
        const d = devices[Math.floor(random() * devices.length)]!;
        // A device spends within its grant (plus at most one request's estimation error, 0.05 here).
        const cap = caps.get(d) ?? 0;
        const s = spent.get(d) ?? 0;
        if (cap > s) spent.set(d, Math.min(cap + 0.05 * random(), s + random() * (cap - s + 0.05)));
        const w: GrantWindow = { limitUsd, spent, caps };
        const next = nextGrant(w, d, random() < 0.3 ? random() * limitUsd * 0.2 : 0);
        expect(next).toBeGreaterThanOrEqual(cap);
        caps.set(d, next);
        let granted = 0;
        for (const c of caps.values()) granted += c;
        expect(granted).toBeLessThanOrEqual(limitUsd + 0.05 * devices.length + 1e-9);
        expect(unallocated({ limitUsd, spent, caps })).toBeGreaterThanOrEqual(0);
      }
    }
  });

  it('gives a newcomer a share at once and covers a refused request when the fleet has room', () => {
    const w: GrantWindow = { limitUsd: 10, spent: new Map([['a', 1]]), caps: new Map([['a', 1.5]]) };
    expect(nextGrant(w, 'b')).toBeCloseTo(1, 9); // 10 % of the limit at most
    expect(nextGrant(w, 'a', 3)).toBeCloseTo(4, 9); // spent 1 + the 3 it needs
    expect(nextGrant({ limitUsd: 1, spent: new Map([['a', 0.9]]), caps: new Map([['a', 1]]) }, 'b', 0.5)).toBe(0);
  });

  it('the ledger keeps its own spend within the grant and counts the others\' spend', () => {
    const level: BudgetLevel = { id: 'vk:x', scope: 'vk:x', limitUsd: 1, period: '1d' };
    const now = Date.now();
    const ledger = new BudgetLedger();
    ledger.setFleetWindow('vk:x', '1d', periodStart('1d', now), { fleetSpentUsd: 0, deviceSpentUsd: 0, grantUsd: 0.1 }, now);
    const t = ledger.reserve([level], 0.08, now);
    expect(t.ok).toBe(true);
    if (t.ok) ledger.settle(t, 0.08);
    expect(ledger.reserve([level], 0.03, now).ok).toBe(false);
    ledger.setFleetWindow('vk:x', '1d', periodStart('1d', now), { fleetSpentUsd: 0.98, deviceSpentUsd: 0.08, grantUsd: 0.5 }, now);
    // Grant room now, but the fleet has spent 0.98 of 1.
    expect(ledger.reserve([level], 0.03, now).ok).toBe(false);
    expect(ledger.reserve([level], 0.01, now).ok).toBe(true);
    // Own spend only is exported (what the agent reports).
    expect(ledger.exportState().windows[0]?.spentUsd).toBeCloseTo(0.08, 9);
  });
});
