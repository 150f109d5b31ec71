/**
 * Bypass attempts the engine stopped or let through, counted by kind and action and kept (the
 * last few) for `outpost status`, whose status document the sync client uploads to the central
 * gateway. Each one is also an audit record (`Gate.connect`, rule `bypass-<kind>`) and a metric
 * (`outpost_bypass_attempts_total`, from that record), so an administrator sees who tries.
 */
import type { BypassSummary } from '../../shared/schema/control.js';
import type { BypassAttempt } from '../pipeline/seam.js';


/** Attempts kept for status. */
const RECENT = 20;

/** The engine's record of bypass attempts since it started. */
export class BypassLog {
  private readonly counts = new Map<string, BypassSummary['counts'][number]>();
  private readonly recent: BypassSummary['recent'] = [];
  private total = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** Counts one attempt: `host` the name that decided, `detail` what the client asked for, in words. */
  note(attempt: BypassAttempt, host: string, detail: string, app: string | null): void {
    this.total++;
    const key = `${attempt.kind} ${attempt.action}`;
    const c = this.counts.get(key);
    if (c === undefined) this.counts.set(key, { kind: attempt.kind, action: attempt.action, count: 1 });
    else c.count++;
    this.recent.push({ ...attempt, at: new Date(this.now()).toISOString(), host, detail, app });
    if (this.recent.length > RECENT) this.recent.shift();
  }

  /** Totals and the latest attempts, newest last. */
  summary(): BypassSummary {
    return { total: this.total, counts: [...this.counts.values()].map((c) => ({ ...c })), recent: [...this.recent] };
  }
}
