/**
 * Server-sent events, parsed incrementally: chunks may split an event, a line, or a UTF-8
 * character anywhere. Each event keeps its raw text, so an event the tap does not change is passed
 * on byte for byte.
 */
import { StringDecoder } from 'node:string_decoder';

/** One event. */
export interface SseEvent {
  /** The event exactly as received, including its terminating blank line. */
  readonly raw: string;
  /** The `event:` field, or null. */
  readonly event: string | null;
  /** The `data:` lines joined with `\n`. */
  readonly data: string;
}

/**
 * A blank line: two line endings in a row, each CRLF, LF or CR (mixed endings are legal). A CR at
 * the very end of the buffer may be the first half of a CRLF, so it only counts once a character
 * other than LF follows it.
 */
const BOUNDARY = /(?:\r\n|\n|\r(?=[^\n]))(?:\r\n|\n|\r(?=[^\n]))/g;
const LINE = /\r\n|\n|\r/;

/** Parses one complete event block (without its boundary). */
export function parseEventBlock(block: string, raw: string): SseEvent {
  // Hot path: providers end lines with LF; the regex split is only for CR and CRLF streams. A
  // one-line `data:` block (most events) needs no split at all.
  if (block.startsWith('data: ') && !block.includes('\n') && !block.includes('\r')) return { raw, event: null, data: block.slice(6) };
  let event: string | null = null;
  let data: string | null = null;
  for (const line of block.includes('\r') ? block.split(LINE) : block.split('\n')) {
    if (line.length === 0 || line.charCodeAt(0) === 58 /* : comment */) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') data = data === null ? value : `${data}\n${value}`;
    else if (field === 'event') event = value;
  }
  return { raw, event, data: data ?? '' };
}

/**
 * An incremental parser for one stream.
 *
 * Linear in the stream's length, however long an event: text after the last complete event is kept
 * in the pieces it arrived in, and each new piece is scanned for a boundary together with only the
 * last 3 characters before it (a boundary is at most 4 characters, so one that needs the new piece
 * starts at most 3 back). The pieces are joined once, when an event completes. Scanning the whole
 * pending text on every chunk was quadratic: 8 MiB without a blank line, in 16 KiB chunks, held the
 * event loop ~3 s (a compressed stream makes such a body cheap to send).
 */
export class SseParser {
  private readonly decoder = new StringDecoder('utf8');
  /** Text received after the last complete event, in arrival pieces. */
  private pending: string[] = [];
  /** Its last (up to) 3 characters. */
  private tail = '';
  /** A CR has been seen in this stream: boundaries may be CR or CRLF (the regex path). */
  private sawCr = false;

  /** Feeds a chunk; returns the events it completed (possibly none). */
  push(chunk: Buffer): SseEvent[] {
    const fresh = this.decoder.write(chunk);
    const probe = this.tail + fresh;
    // Hot path: in a stream with no CR so far a boundary is exactly LF LF, found by indexOf, not
    // the regex. One CR and the stream takes the general path from then on.
    if (!this.sawCr && fresh.includes('\r')) this.sawCr = true;
    if (!this.sawCr) return this.pushLf(fresh, probe);
    BOUNDARY.lastIndex = 0;
    return this.take(fresh, probe, BOUNDARY.test(probe), regexBoundary);
  }

  /** `push` for text without CR: events end at LF LF, found by indexOf. */
  private pushLf(fresh: string, probe: string): SseEvent[] {
    return this.take(fresh, probe, probe.includes('\n\n'), lfBoundary);
  }

  /** Adds `fresh` and, when the probe saw a boundary, cuts the pending text into events at each one `next` finds. */
  private take(fresh: string, probe: string, complete: boolean, next: (text: string, from: number) => readonly [number, number] | null): SseEvent[] {
    if (!complete) {
      if (fresh.length > 0) this.pending.push(fresh);
      this.tail = probe.length <= 3 ? probe : probe.slice(-3);
      return [];
    }
    this.pending.push(fresh);
    const text = this.pending.length === 1 ? fresh : this.pending.join('');
    const out: SseEvent[] = [];
    let from = 0;
    for (let b = next(text, 0); b !== null; b = next(text, from)) {
      out.push(parseEventBlock(text.slice(from, b[0]), text.slice(from, b[1])));
      from = b[1];
    }
    const rest = text.slice(from);
    this.pending = rest.length === 0 ? [] : [rest];
    this.tail = rest.length <= 3 ? rest : rest.slice(-3);
    return out;
  }

  /** Text received but not yet part of a complete event. */
  rest(): string {
    return this.pending.join('') + this.decoder.end();
  }
}

/** The next blank line at or after `from` (the general boundary: CR, LF or CRLF line ends): [start, end]. */
function regexBoundary(text: string, from: number): readonly [number, number] | null {
  BOUNDARY.lastIndex = from;
  const m = BOUNDARY.exec(text);
  return m === null ? null : [m.index, m.index + m[0].length];
}

/** The next LF LF at or after `from`: [start, end]. */
function lfBoundary(text: string, from: number): readonly [number, number] | null {
  const at = text.indexOf('\n\n', from);
  return at === -1 ? null : [at, at + 2];
}
