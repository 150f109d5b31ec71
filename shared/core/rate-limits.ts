/**
 * Rate limits per principal: requests and tokens per (UTC-aligned) minute, tokens per day,
 * concurrent requests. Token limits reserve an estimate at admission and settle to the real count on
 * completion, so concurrent requests cannot overshoot by more than their estimates' error.
 */
import type { RateLimit } from '../schema/policy.js';
import { periodEnd, periodStart } from './periods.js';

/**
 * A fleet-scoped limit as one device enforces it: each number scaled by the device's `share` of the
 * fleet (0 < share ≤ 1), rounded down, at least 1. Device-scoped limits are returned as they are.
 */
export function deviceShareOf(limit: RateLimit | null, share: number): RateLimit | null {
  if (limit === null || limit.scope !== 'fleet' || share >= 1) return limit;
  const part = (n: number | undefined): number | undefined => (n === undefined ? undefined : Math.max(1, Math.floor(n * share)));
  const out: RateLimit = { ...limit };
  for (const key of ['requestsPerMinute', 'tokensPerMinute', 'tokensPerDay', 'concurrent'] as const) {
    const v = part(limit[key]);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

/** Why a request was refused, with when to retry. */
export interface RateRefusal {
  readonly ok: false;
  readonly code: 'rate_limited' | 'token_limited' | 'concurrency_limited';
  readonly limit: string;
  readonly retryAfterSeconds: number;
}

/** An admitted request's hold on the counters; settle or release it exactly once. */
export interface RateTicket {
  readonly ok: true;
  readonly counters: PrincipalCounters | null;
  readonly minute: number;
  readonly day: number;
  readonly reservedTokens: number;
}

interface PrincipalCounters {
  minute: number;
  requests: number;
  minuteTokens: number;
  day: number;
  dayTokens: number;
  concurrent: number;
}

/** Day token usage per principal, exportable as plain JSON for the state store. */
export interface RateState {
  readonly day: number;
  readonly tokens: Readonly<Record<string, number>>;
}

const NO_LIMIT: RateTicket = { ok: true, counters: null, minute: 0, day: 0, reservedTokens: 0 };

function retryAfter(endMs: number, nowMs: number): number {
  return Math.max(1, Math.ceil((endMs - nowMs) / 1000));
}

/** The counters of every principal; one instance lives as long as the agent. */
export class RateLimiter {
  private readonly byPrincipal = new Map<string, PrincipalCounters>();

  /** Checks `limit` for `principal` and, when it passes, takes one request and `estimateTokens`. */
  admit(principal: string, limit: RateLimit | null, estimateTokens: number, nowMs: number): RateTicket | RateRefusal {
    if (limit === null) return NO_LIMIT;
    const c = this.counters(principal, nowMs);
    if (limit.concurrent !== undefined && c.concurrent >= limit.concurrent) {
      return { ok: false, code: 'concurrency_limited', limit: `${limit.concurrent} concurrent requests`, retryAfterSeconds: 1 };
    }
    if (limit.requestsPerMinute !== undefined && c.requests >= limit.requestsPerMinute) {
      return { ok: false, code: 'rate_limited', limit: `${limit.requestsPerMinute} requests per minute`, retryAfterSeconds: retryAfter(c.minute + 60_000, nowMs) };
    }
    // A request bigger than a whole window is let through when the window is empty: refusing it
    // forever would be worse than one window's overshoot.
    if (limit.tokensPerMinute !== undefined && c.minuteTokens > 0 && c.minuteTokens + estimateTokens > limit.tokensPerMinute) {
      return { ok: false, code: 'token_limited', limit: `${limit.tokensPerMinute} tokens per minute`, retryAfterSeconds: retryAfter(c.minute + 60_000, nowMs) };
    }
    if (limit.tokensPerDay !== undefined && c.dayTokens > 0 && c.dayTokens + estimateTokens > limit.tokensPerDay) {
      return { ok: false, code: 'token_limited', limit: `${limit.tokensPerDay} tokens per day`, retryAfterSeconds: retryAfter(periodEnd('1d', nowMs), nowMs) };
    }
    c.requests++;
    c.concurrent++;
    c.minuteTokens += estimateTokens;
    c.dayTokens += estimateTokens;
    return { ok: true, counters: c, minute: c.minute, day: c.day, reservedTokens: estimateTokens };
  }

  /** Replaces the reserved estimate by the real token count and ends the concurrent slot. */
  settle(ticket: RateTicket, actualTokens: number): void {
    const c = ticket.counters;
    if (c === null) return;
    c.concurrent = Math.max(0, c.concurrent - 1);
    const delta = actualTokens - ticket.reservedTokens;
    if (c.minute === ticket.minute) c.minuteTokens = Math.max(0, c.minuteTokens + delta);
    if (c.day === ticket.day) c.dayTokens = Math.max(0, c.dayTokens + delta);
  }

  /** Undoes an admission entirely (a later check refused the request: it used nothing). */
  cancel(ticket: RateTicket): void {
    const c = ticket.counters;
    if (c === null) return;
    if (c.minute === ticket.minute) c.requests = Math.max(0, c.requests - 1);
    this.settle(ticket, 0);
  }

  /**
   * Adds a finished request of `tokens` that happened at `atMs` to the windows of `principal` that
   * contain it: today's tokens, and this minute's tokens and request count (replaying audit records
   * after a restart).
   */
  charge(principal: string, tokens: number, atMs: number, nowMs: number): void {
    const c = this.counters(principal, nowMs);
    if (periodStart('1d', atMs) === c.day) c.dayTokens += tokens;
    if (atMs - (atMs % 60_000) === c.minute) {
      c.minuteTokens += tokens;
      c.requests++;
    }
  }

  /** Current counters of a principal (for status views). */
  usage(principal: string, nowMs: number): { requests: number; minuteTokens: number; dayTokens: number; concurrent: number } {
    const c = this.counters(principal, nowMs);
    return { requests: c.requests, minuteTokens: c.minuteTokens, dayTokens: c.dayTokens, concurrent: c.concurrent };
  }

  /** Today's token usage per principal, as plain JSON. */
  exportState(nowMs: number): RateState {
    const day = periodStart('1d', nowMs);
    const tokens: Record<string, number> = {};
    for (const [p, c] of this.byPrincipal) if (c.day === day && c.dayTokens > 0) tokens[p] = c.dayTokens;
    return { day, tokens };
  }

  /** Restores day token usage saved by `exportState` (ignored when the day has passed). */
  importState(state: RateState, nowMs: number): void {
    if (state.day !== periodStart('1d', nowMs)) return;
    for (const [p, n] of Object.entries(state.tokens)) {
      const c = this.counters(p, nowMs);
      c.dayTokens = Math.max(c.dayTokens, n);
    }
  }

  private counters(principal: string, nowMs: number): PrincipalCounters {
    const minute = nowMs - (nowMs % 60_000);
    let c = this.byPrincipal.get(principal);
    if (c === undefined) {
      c = { minute, requests: 0, minuteTokens: 0, day: periodStart('1d', nowMs), dayTokens: 0, concurrent: 0 };
      this.byPrincipal.set(principal, c);
      return c;
    }
    if (c.minute !== minute) {
      c.minute = minute;
      c.requests = 0;
      c.minuteTokens = 0;
      const day = periodStart('1d', nowMs);
      if (c.day !== day) {
        c.day = day;
        c.dayTokens = 0;
      }
    }
    return c;
  }
}
