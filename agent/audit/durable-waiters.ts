/**
 * Who waits for which records to be committed (`AuditLog.whenDurable`, offered to the engine as
 * `Gate.whenRecorded`): each callback waits for the records queued before it, and runs right after
 * the transaction that commits the last of them. Hot path: one callback per governed response.
 */

/** A logger for a caller's failing callback. */
interface WarnLogger {
  warn(obj: object, msg: string): void;
}

/** Counts records queued and committed, and calls back the waiters they release. */
export class DurableWaiters {
  /** Records ever queued, and of those, committed. */
  private queuedTotal = 0;
  private committedTotal = 0;
  /** Callbacks in queue order, each with the `queuedTotal` it waits for. */
  private waiters: Array<{ readonly upTo: number; readonly callback: () => void }> = [];

  constructor(private readonly logger: WarnLogger) {}

  /** True when every record queued so far is committed. */
  get settled(): boolean {
    return this.committedTotal >= this.queuedTotal;
  }

  /** One more record waits to be committed. */
  queued(): void {
    this.queuedTotal++;
  }

  /** Calls `callback` once every record queued so far is committed. */
  wait(callback: () => void): void {
    this.waiters.push({ upTo: this.queuedTotal, callback });
  }

  /** `n` more records were committed: their waiters go. */
  committed(n: number): void {
    this.committedTotal += n;
    this.release(this.committedTotal);
  }

  /** Nobody waits any more (the records stay in memory, or the log closed): every waiter goes. */
  releaseAll(): void {
    this.release(Number.POSITIVE_INFINITY);
  }

  private release(upTo: number): void {
    const waiters = this.waiters;
    if (waiters.length === 0) return;
    let n = 0;
    while (n < waiters.length && (waiters[n] as { upTo: number }).upTo <= upTo) n++;
    if (n === 0) return;
    this.waiters = n === waiters.length ? [] : waiters.slice(n);
    for (let i = 0; i < n; i++) {
      try {
        (waiters[i] as { callback: () => void }).callback();
      } catch (err) {
        // A caller's bug must not stop the other responses from ending.
        this.logger.warn({ err: (err as Error).message }, 'an audit durability callback failed');
      }
    }
  }
}
