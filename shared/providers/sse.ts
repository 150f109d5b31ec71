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
  let event: string | null = null;
  let data: string | null = null;
  for (const line of block.split(LINE)) {
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

/** An incremental parser for one stream. */
export class SseParser {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';

  /** Feeds a chunk; returns the events it completed (possibly none). */
  push(chunk: Buffer): SseEvent[] {
    const text = this.pending + this.decoder.write(chunk);
    const out: SseEvent[] = [];
    BOUNDARY.lastIndex = 0;
    let from = 0;
    let m: RegExpExecArray | null;
    while ((m = BOUNDARY.exec(text)) !== null) {
      const end = m.index + m[0].length;
      out.push(parseEventBlock(text.slice(from, m.index), text.slice(from, end)));
      from = end;
    }
    this.pending = from === 0 ? text : text.slice(from);
    return out;
  }

  /** Text received but not yet part of a complete event. */
  rest(): string {
    return this.pending + this.decoder.end();
  }
}
