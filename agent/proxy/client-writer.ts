/**
 * The durable-response writer: how an exchange writes the response to its client. Chunks (and the
 * head, and the end) that arrive in one tick leave in one write (one TLS record, one syscall),
 * uncorked on the next tick so nothing waits for a later chunk. A governed response ends only once
 * its audit record is durable: the bytes that complete a length-delimited body, the tap's last
 * bytes and the end wait for the gate's `whenRecorded`, so a client never holds a complete answer
 * whose record a crash could lose.
 */
import type { ExchangeResponse } from './exchange-types.js';

/**
 * Bytes the client's side may hold unsent before upstream is paused. Pausing undici is costly when
 * upstream is fast: its parser puts the rest of the chunk it was reading back on the socket, and on
 * resume reads and copies everything the socket buffered meanwhile (megabytes: a TLS socket keeps
 * decrypting what the kernel holds). Pausing at the socket's own 16 KiB mark did that every other
 * chunk, so a 20 MB stream crawled and left its copies in memory; a window of this size pauses
 * only when the client really falls behind, and bounds what it holds for a slow one.
 */
const CLIENT_WINDOW_BYTES = 256 * 1024;

/** Writes one response to its client. */
export class ClientWriter {
  private corked = false;
  /** The end waits for the record: the tick's cork stays on until then. */
  private holding = false;
  /** Bytes of a length-delimited governed body still to come; -1 when not counted. */
  private remaining = -1;
  /** The bytes that complete a length-delimited body, held until the record is durable. */
  private tail: Buffer | null = null;

  constructor(
    private readonly res: ExchangeResponse,
    private readonly whenRecorded: (fn: () => void) => void,
  ) {}

  /** Counts a governed length-delimited body down to its last byte, which then waits for the record. */
  countDown(length: number): void {
    this.remaining = length;
  }

  /** Corks the response until the next tick (the head of a stream rides with its first events). */
  corkTick(): void {
    if (this.corked) return;
    this.corked = true;
    this.res.cork();
    process.nextTick(uncork, this);
  }

  /**
   * Writes a chunk of the body (or holds it, when it completes a counted body). False when the
   * client has fallen a window behind: the caller pauses upstream until `drain`.
   */
  write(out: Buffer): boolean {
    if (this.remaining >= 0) {
      this.remaining -= out.length;
      if (this.remaining <= 0) {
        this.tail = this.tail === null ? out : Buffer.concat([this.tail, out]);
        return true;
      }
    }
    this.corkTick();
    return this.res.write(out) || this.res.writableLength < CLIENT_WINDOW_BYTES;
  }

  /** Called on the tick after a write. */
  flush(): void {
    if (!this.corked) return;
    this.corked = false;
    // Holding for the record: `res.end` flushes the corked bytes with the end.
    if (!this.holding) this.res.uncork();
  }

  /**
   * Ends with `rest` (held by the tap) after the tail, once the record is durable. At upstream's
   * end the caller lets this tick's chunks go first (`releaseTick`: they are not the end, so they do
   * not wait); when the gate stopped the stream the cork is kept and `res.end` sends it with the end.
   */
  endWhenRecorded(rest: Buffer | null): void {
    this.holding = true;
    this.whenRecorded(() => {
      this.holding = false;
      this.end(rest);
    });
  }

  /** Lets this tick's chunks leave now (a response that arrived in one tick does not hold its first bytes for the commit). */
  releaseTick(): void {
    if (!this.corked) return;
    this.corked = false;
    this.res.uncork();
  }

  /** Ends now: the tail, then `rest`. */
  end(rest: Buffer | null): void {
    const tail = this.tail;
    this.tail = null;
    if (tail !== null) this.res.write(tail);
    if (rest !== null) this.res.end(rest);
    else this.res.end();
  }
}

function uncork(writer: ClientWriter): void {
  writer.flush();
}
