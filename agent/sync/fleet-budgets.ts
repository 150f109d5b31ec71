/**
 * Fleet budgets, the agent's side (docs/sync-protocol.md "Fleet budgets"): each `budget.state`
 * window goes into the core's ledger (`BudgetLedger.setFleetWindow`: the fleet's other spend counts
 * at admission, this device's own spend stays within its grant), and this device's cumulative spend
 * per window goes up in `usage.report` after costs settle, coalesced, only when it changed. The
 * gateway answers each report with the device's (topped-up) grant.
 */
import { PROTOCOL_V, type AgentMessage, type BudgetStateMessage } from '../../shared/schema/protocol.js';
import type { BudgetLedger, BudgetShortfall } from '../../shared/core/budgets.js';

type FleetWindow = BudgetStateMessage['windows'][number];

/** What the budget sync needs. */
export interface FleetBudgetOptions {
  readonly ledger: Pick<BudgetLedger, 'setFleetWindow' | 'exportState'>;
  readonly send: (message: AgentMessage) => boolean;
  readonly now?: () => number;
  /** Reports are coalesced to at most one per this many ms (default 50). */
  readonly coalesceMs?: number;
  /** How long a request waits for the gateway's answer to an ask for more grant (default 5 s). */
  readonly askTimeoutMs?: number;
}

/** Keeps the ledger and the gateway's view of this device's spend in step. */
export class FleetBudgets {
  private lastReported = '';
  private timer: NodeJS.Timeout | null = null;
  /** The gateway's last word on each window (`id period`). */
  private readonly windows = new Map<string, FleetWindow>();
  /** Asks waiting for an answer, by window: concurrent refusals share one ask. */
  private readonly asks = new Map<string, { readonly promise: Promise<void>; readonly done: () => void }>();

  constructor(private readonly options: FleetBudgetOptions) {}

  /** `budget.state`: the fleet's view of each window this device may charge. */
  received(message: BudgetStateMessage): void {
    const now = (this.options.now ?? Date.now)();
    for (const w of message.windows) {
      this.options.ledger.setFleetWindow(w.id, w.period, w.windowStart, w, now);
      const key = `${w.id} ${w.period}`;
      this.windows.set(key, w);
      this.asks.get(key)?.done();
    }
  }

  /**
   * A request was refused for want of grant: when this device's headroom plus what the fleet has
   * not allocated covers the estimate, asks the gateway (`usage.report` with `needUsd`) and resolves
   * once it answered (or after the timeout); null when asking is useless or there is no connection.
   */
  ask(shortfall: BudgetShortfall): Promise<void> | null {
    const key = `${shortfall.id} ${shortfall.period}`;
    const pending = this.asks.get(key);
    if (pending !== undefined) return pending.promise;
    const w = this.windows.get(key);
    if (w === undefined || w.grantUsd === null || w.unallocatedUsd === null) return null;
    const own = this.options.ledger.exportState().windows.find((x) => x.id === shortfall.id && x.period === shortfall.period && x.windowStart === w.windowStart);
    const spent = own?.spentUsd ?? 0;
    if (Math.max(0, w.grantUsd - spent) + w.unallocatedUsd < shortfall.estimateUsd) return null;
    const sent = this.options.send({
      v: PROTOCOL_V,
      type: 'usage.report',
      windows: [{ id: shortfall.id, period: shortfall.period, windowStart: w.windowStart, spentUsd: spent, needUsd: shortfall.estimateUsd }],
    });
    if (!sent) return null;
    let done: () => void = () => undefined;
    const promise = new Promise<void>((resolve) => {
      const timer = setTimeout(() => done(), this.options.askTimeoutMs ?? 5000);
      timer.unref();
      done = () => {
        clearTimeout(timer);
        this.asks.delete(key);
        resolve();
      };
    });
    this.asks.set(key, { promise, done });
    return promise;
  }

  /** After connecting: the gateway keeps the larger value, so the whole state is reported once. */
  connected(): void {
    this.lastReported = '';
    this.report();
  }

  /** Costs settled (records written): report soon. */
  settled(): void {
    if (this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.report();
    }, this.options.coalesceMs ?? 50);
    this.timer.unref();
  }

  /** Sends the cumulative spend per window when it changed since the last report. */
  report(): void {
    const windows = this.options.ledger.exportState().windows;
    const text = JSON.stringify(windows);
    if (text === this.lastReported || windows.length === 0) return;
    if (this.options.send({ v: PROTOCOL_V, type: 'usage.report', windows: windows.map((w) => ({ id: w.id, period: w.period, windowStart: w.windowStart, spentUsd: w.spentUsd })) })) this.lastReported = text;
  }

  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    for (const a of [...this.asks.values()]) a.done();
  }
}
