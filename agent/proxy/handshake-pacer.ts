/**
 * Handshake pacing (issue 3): a burst of new TLS connections must not hold up requests on
 * connections that are already open.
 *
 * Why: the server's share of a handshake (ECDHE key share, ECDSA CertificateVerify, key schedule;
 * about 0.25 ms of CPU here) runs synchronously inside OpenSSL when the ClientHello is read. When
 * 50 clients handshake at once, their ClientHellos arrive in the same poll phase of the event loop
 * and the 50 handshakes run back to back (~12 ms) before the loop reads anything else, so a request
 * already waiting on an open connection waits that long. Pacing *when the TLS socket is created*
 * does not help: the work is triggered by the ClientHello's arrival, and by then every socket of a
 * burst has long been wrapped.
 *
 * How: three steps of every intercepted connection take a token from the same per-turn budget.
 * Asking for the host's certificate (for a new host: building its leaf and sending the signature to
 * the thread pool, ~0.1–0.2 ms; a burst's CONNECTs are all read in one poll phase; intercept.ts).
 * Creating the TLS socket (SSL_new and the wrap, ~0.2 ms; intercept.ts) waits its turn with the raw
 * socket left as it is, so the ClientHello waits in the kernel or the socket's buffer (the TLS
 * socket replays buffered bytes when it starts). And the engine's TLS sockets get an `SNICallback`, which Node runs from OpenSSL's certificate
 * callback, after the ClientHello is parsed (cheap) and before any of the expensive work. Until the
 * callback answers, OpenSSL keeps the handshake suspended (SSL_ERROR_WANT_X509_LOOKUP) and the
 * socket's later bytes stay buffered. The pacer lets at most `perTurn` steps run per turn of the
 * event loop: within the budget the callback answers synchronously (a lone handshake, or the
 * first few of a burst, is never delayed); past it the handshake waits in a FIFO queue that
 * `setImmediate` drains `perTurn` at a time, one turn after another. Between two of those turns the
 * loop's poll phase runs, so a request on an existing connection waits for at most about `perTurn`
 * steps (~1 ms at 4) instead of the whole burst. The burst itself costs the same CPU and ends
 * about as late; its handshakes take turns instead of all finishing at the end.
 *
 * A ClientHello without SNI skips Node's callback, so such a handshake is not paced (rare: clients
 * send SNI for every DNS name, and the engine only intercepts names).
 */

/** A paced step: returns false when it turned out to have nothing to do (its socket is gone). */
export type PacedStart = () => boolean;

/** The engine's default budget (about 1 ms of handshake CPU on a laptop core; engine.ts `handshakesPerTurn`). */
export const DEFAULT_HANDSHAKES_PER_TURN = 4;

/** Admits at most `perTurn` handshake steps per turn of the event loop; the rest wait their turn (FIFO). */
export class HandshakePacer {
  readonly #perTurn: number;
  /** Handshakes admitted since the last turn boundary. */
  #used = 0;
  #queue: PacedStart[] = [];
  #head = 0;
  #scheduled = false;

  constructor(perTurn: number) {
    if (!Number.isInteger(perTurn) || perTurn < 1) throw new RangeError(`handshakes per turn must be a positive integer, got ${perTurn}`);
    this.#perTurn = perTurn;
  }

  /** Handshakes waiting for a later turn. */
  get waiting(): number {
    return this.#queue.length - this.#head;
  }

  /** Runs `start` now when this turn's budget allows (and nobody waits before it), else on a later turn. */
  admit(start: PacedStart): void {
    if (this.waiting === 0 && this.#used < this.#perTurn) {
      this.#schedule();
      if (start()) this.#used++;
      return;
    }
    this.#queue.push(start);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(this.#turn);
  }

  /**
   * The end of a turn (check phase): what the poll phase left of this turn's budget goes to those
   * waiting, then the budget is fresh for the next turn. So a turn (its poll and check phases
   * together) runs at most `perTurn` steps.
   */
  readonly #turn = (): void => {
    this.#scheduled = false;
    while (this.#used < this.#perTurn && this.#head < this.#queue.length) {
      const start = this.#queue[this.#head] as PacedStart;
      this.#queue[this.#head++] = undefined as unknown as PacedStart;
      if (start()) this.#used++;
    }
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    }
    this.#used = 0;
    if (this.waiting > 0) this.#schedule();
  };
}
