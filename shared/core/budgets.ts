/**
 * Budgets: every level that applies (org → team → user → virtual key) must have room, and every
 * level is charged. Cost is reserved at admission (estimate), settled on completion (real cost) or
 * released on failure, so concurrent requests cannot overshoot: a request that does not fit beside
 * what is already spent and reserved is refused with 402 `budget_exceeded`.
 */
import type { Period } from '../schema/common.js';
import { periodEnd, periodStart } from './periods.js';

/** One budget that applies to a request. */
export interface BudgetLevel {
  /** Stable id: the policy budget's `id`, `vk:ID` for a key's own budget, `default:PRINCIPAL`. */
  readonly id: string;
  /** Whom it applies to (`org`, `team:X`, `user:X`, `vk:X`), for messages. */
  readonly scope: string;
  readonly limitUsd: number;
  readonly period: Period;
}

interface Counter {
  readonly windowStart: number;
  spentUsd: number;
  reservedUsd: number;
  /** Spend by the fleet's other devices in this window (central gateway), counted at admission. */
  elsewhereUsd: number;
  /** This device's cap on its own spend in this window, granted by the central gateway; null: none. */
  grantUsd: number | null;
}

/** What the central gateway says about one window (`budget.state`, shared/schema/protocol.ts). */
export interface FleetWindowState {
  readonly fleetSpentUsd: number;
  readonly deviceSpentUsd: number;
  readonly grantUsd: number | null;
}

/** A reservation across levels; settle or release it exactly once. */
export interface BudgetTicket {
  readonly ok: true;
  readonly counters: readonly Counter[];
  readonly reservedUsd: number;
}

/** The level that had no room. */
export interface BudgetRefusal {
  readonly ok: false;
  readonly level: BudgetLevel;
  readonly spentUsd: number;
  readonly resetsAt: number;
  /** `limit`: the level itself is spent (fleet included); `grant`: this device's grant from the central gateway is. */
  readonly reason: 'limit' | 'grant';
}

/** A request refused for want of budget, as the sync client asks the gateway for more grant. */
export interface BudgetShortfall {
  readonly id: string;
  readonly period: Period;
  readonly reason: 'limit' | 'grant';
  readonly estimateUsd: number;
}

/** Spend per budget window, as plain JSON (for the state store and the central gateway's totals). */
export interface BudgetState {
  readonly version: 1;
  readonly windows: ReadonlyArray<{ readonly id: string; readonly period: Period; readonly windowStart: number; readonly spentUsd: number }>;
}

const EMPTY: BudgetTicket = { ok: true, counters: [], reservedUsd: 0 };

/** Spend and reservations per budget window; one instance lives as long as the agent. */
export class BudgetLedger {
  private readonly counters = new Map<string, Counter>();

  /** Reserves `estimateUsd` on every level, or refuses naming the first level without room. */
  reserve(levels: readonly BudgetLevel[], estimateUsd: number, nowMs: number): BudgetTicket | BudgetRefusal {
    if (levels.length === 0) return EMPTY;
    const held: Counter[] = [];
    for (const level of levels) {
      const c = this.counter(level, nowMs);
      // Full-or-nothing: with the estimate, this level must stay within its limit. A request with an
      // unknown price (estimate 0) still needs the level not to be exhausted.
      const committed = c.spentUsd + c.reservedUsd + c.elsewhereUsd;
      if (committed + estimateUsd > level.limitUsd || committed >= level.limitUsd) {
        return { ok: false, level, spentUsd: c.spentUsd + c.elsewhereUsd, resetsAt: periodEnd(level.period, nowMs), reason: 'limit' };
      }
      // In a fleet, this device's own spend stays within what the gateway granted it.
      const own = c.spentUsd + c.reservedUsd;
      if (c.grantUsd !== null && (own + estimateUsd > c.grantUsd || own >= c.grantUsd)) {
        return { ok: false, level, spentUsd: c.spentUsd + c.elsewhereUsd, resetsAt: periodEnd(level.period, nowMs), reason: 'grant' };
      }
      held.push(c);
    }
    for (const c of held) c.reservedUsd += estimateUsd;
    return { ok: true, counters: held, reservedUsd: estimateUsd };
  }

  /** Turns the reservation into the real cost on every level. */
  settle(ticket: BudgetTicket, actualUsd: number): void {
    for (const c of ticket.counters) {
      c.reservedUsd = Math.max(0, c.reservedUsd - ticket.reservedUsd);
      c.spentUsd += actualUsd;
    }
  }

  /** Drops the reservation (the request failed before costing anything). */
  release(ticket: BudgetTicket): void {
    this.settle(ticket, 0);
  }

  /**
   * Adds spend that happened at `atMs` to every level whose current window contains it (replaying
   * audit records after a restart; spend from a window that has passed is not charged).
   */
  charge(levels: readonly BudgetLevel[], usd: number, atMs: number, nowMs: number): void {
    for (const level of levels) {
      if (periodStart(level.period, atMs) !== periodStart(level.period, nowMs)) continue;
      this.counter(level, nowMs).spentUsd += usd;
    }
  }

  /**
   * Applies the central gateway's view of a window (`budget.state`): others' spend counts at admission
   * and this device's own spend stays within its grant. A window that has passed is ignored.
   */
  setFleetWindow(id: string, period: Period, windowStart: number, state: FleetWindowState, nowMs: number): void {
    if (windowStart !== periodStart(period, nowMs)) return;
    const c = this.counter({ id, scope: '', limitUsd: 0, period }, nowMs);
    c.elsewhereUsd = Math.max(0, state.fleetSpentUsd - state.deviceSpentUsd);
    c.grantUsd = state.grantUsd;
  }

  /** Spent and reserved in the current window of a level. */
  usage(level: BudgetLevel, nowMs: number): { spentUsd: number; reservedUsd: number; resetsAt: number } {
    const c = this.counter(level, nowMs);
    return { spentUsd: c.spentUsd, reservedUsd: c.reservedUsd, resetsAt: periodEnd(level.period, nowMs) };
  }

  /** Current spend per window (reservations are in flight and not exported). */
  exportState(): BudgetState {
    const windows = [];
    for (const [key, c] of this.counters) {
      const [id, period] = splitKey(key);
      if (c.spentUsd > 0) windows.push({ id, period, windowStart: c.windowStart, spentUsd: c.spentUsd });
    }
    return { version: 1, windows };
  }

  /**
   * Restores spend saved by `exportState` (or totals from the central gateway). Spend only grows
   * within a window, so the larger of the known and the imported value wins.
   */
  importState(state: BudgetState, nowMs: number): void {
    for (const w of state.windows) {
      if (w.windowStart !== periodStart(w.period, nowMs)) continue;
      const c = this.counter({ id: w.id, scope: '', limitUsd: 0, period: w.period }, nowMs);
      c.spentUsd = Math.max(c.spentUsd, w.spentUsd);
    }
  }

  private counter(level: BudgetLevel, nowMs: number): Counter {
    const key = `${level.id}\u0000${level.period}`;
    const start = periodStart(level.period, nowMs);
    let c = this.counters.get(key);
    if (c === undefined || c.windowStart !== start) {
      c = { windowStart: start, spentUsd: 0, reservedUsd: 0, elsewhereUsd: 0, grantUsd: null };
      this.counters.set(key, c);
    }
    return c;
  }
}

function splitKey(key: string): [string, Period] {
  const i = key.lastIndexOf('\u0000');
  return [key.slice(0, i), key.slice(i + 1) as Period];
}
