/**
 * Reconnect delays: exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff
 * and Jitter"): the n-th retry waits a uniformly random time in [0, min(cap, base·2ⁿ)]. A fleet cut
 * off at once (a gateway restart) comes back spread over the whole window instead of in waves.
 */

/** Backoff settings. */
export interface BackoffOptions {
  /** The first window, ms. */
  readonly baseMs: number;
  /** The largest window, ms. */
  readonly capMs: number;
  /** A uniform random number in [0, 1) (tests pass a seeded one). */
  readonly random?: () => number;
}

/** Default: windows of 1 s, 2 s, 4 s … up to 60 s. */
export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1000, capMs: 60_000 };

/** Counts consecutive failures and answers how long to wait before the next attempt. */
export class Backoff {
  private failures = 0;

  constructor(private readonly options: BackoffOptions = DEFAULT_BACKOFF) {}

  /** The window for the current failure count (the upper bound of the next delay). */
  window(): number {
    // 2^30 and beyond is past any cap; stop doubling before the number overflows.
    return Math.min(this.options.capMs, this.options.baseMs * 2 ** Math.min(this.failures, 30));
  }

  /** Records a failure; resolves to the delay before the next attempt. */
  next(): number {
    const delay = Math.floor((this.options.random ?? Math.random)() * this.window());
    this.failures += 1;
    return delay;
  }

  /** A connection succeeded: the next failure starts from the base window again. */
  reset(): void {
    this.failures = 0;
  }

  get attempts(): number {
    return this.failures;
  }
}
