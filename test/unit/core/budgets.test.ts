import { describe, expect, it } from 'vitest';
import { BudgetLedger, type BudgetLevel } from '../../../shared/core/budgets.js';

const now = Date.parse('2026-11-26T12:00:00Z');
const org: BudgetLevel = { id: 'org-monthly', scope: 'org', limitUsd: 100, period: '1M' };
const team: BudgetLevel = { id: 'eng', scope: 'team:eng', limitUsd: 10, period: '1d' };
const vk: BudgetLevel = { id: 'vk:a', scope: 'vk:a', limitUsd: 1, period: '1d' };

describe('budget ledger', () => {
  it('concurrent reservations cannot overshoot: a budget that fits 10 admits exactly 10 of 50', () => {
    const ledger = new BudgetLedger();
    const tickets = Array.from({ length: 50 }, () => ledger.reserve([org, team, vk], 0.1, now));
    expect(tickets.filter((t) => t.ok)).toHaveLength(10);
  });

  it('every level must have room, and the refusal names the level without it', () => {
    const ledger = new BudgetLedger();
    const r = ledger.reserve([org, team, vk], 1.5, now);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.level.id).toBe('vk:a');
  });

  it('settling charges every level the real cost and frees the reservation', () => {
    const ledger = new BudgetLedger();
    const t = ledger.reserve([org, team], 2, now);
    if (!t.ok) throw new Error('refused');
    ledger.settle(t, 0.5);
    expect(ledger.usage(org, now)).toMatchObject({ spentUsd: 0.5, reservedUsd: 0 });
    expect(ledger.usage(team, now)).toMatchObject({ spentUsd: 0.5, reservedUsd: 0 });
  });

  it('releasing a failed request charges nothing', () => {
    const ledger = new BudgetLedger();
    const t = ledger.reserve([team], 9, now);
    if (!t.ok) throw new Error('refused');
    expect(ledger.reserve([team], 2, now).ok).toBe(false);
    ledger.release(t);
    expect(ledger.reserve([team], 2, now).ok).toBe(true);
  });

  it('a new window starts empty', () => {
    const ledger = new BudgetLedger();
    const t = ledger.reserve([team], 5, now);
    if (t.ok) ledger.settle(t, 10);
    expect(ledger.reserve([team], 0.01, now).ok).toBe(false);
    expect(ledger.reserve([team], 0.01, Date.parse('2026-11-27T00:00:01Z')).ok).toBe(true);
  });

  it('an exhausted level refuses even a request with no known price', () => {
    const ledger = new BudgetLedger();
    const t = ledger.reserve([vk], 1, now);
    if (t.ok) ledger.settle(t, 1);
    expect(ledger.reserve([vk], 0, now).ok).toBe(false);
  });

  it('exports spend as plain JSON and imports it into a fresh ledger', () => {
    const a = new BudgetLedger();
    const t = a.reserve([org, team], 1, now);
    if (t.ok) a.settle(t, 3.25);
    const json = JSON.parse(JSON.stringify(a.exportState())) as ReturnType<BudgetLedger['exportState']>;
    const b = new BudgetLedger();
    b.importState(json, now);
    expect(b.usage(team, now).spentUsd).toBe(3.25);
    // Next day: the daily window's spend is gone, the monthly one stays.
    const c = new BudgetLedger();
    c.importState(json, Date.parse('2026-11-27T01:00:00Z'));
    expect(c.usage(team, Date.parse('2026-11-27T01:00:00Z')).spentUsd).toBe(0);
    expect(c.usage(org, Date.parse('2026-11-27T01:00:00Z')).spentUsd).toBe(3.25);
  });
});
