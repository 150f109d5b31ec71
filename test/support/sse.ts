/**
 * Reading SSE the way a client does, keeping when each event arrived and in which read, so tests
 * can check that a proxy passes events on one by one instead of buffering the stream.
 */
import { performance } from 'node:perf_hooks';

/** One SSE event with its arrival. */
export interface TimedSseEvent {
  /** The `event:` field, or `undefined` for a default `message` event. */
  readonly event: string | undefined;
  /** The `data:` lines joined with `\n`. */
  readonly data: string;
  /** `performance.now()` when the read that completed this event arrived. */
  readonly atMs: number;
  /** Index of the read (network chunk) that completed this event. */
  readonly read: number;
}

/** Everything read from one SSE body. */
export interface SseCapture {
  readonly events: TimedSseEvent[];
  /** Every read: its size and arrival time. */
  readonly reads: Array<{ readonly bytes: number; readonly atMs: number }>;
  /** The whole body as text, for byte-level assertions. */
  readonly raw: string;
}

/**
 * Reads an SSE body to its end (web `ReadableStream`, an undici `request` body, or any iterable
 * of byte chunks such as `[Buffer.from(curlOutput)]`), parsing events as the HTML standard's event-stream algorithm does.
 * `onEvent` sees each event as soon as it is parsed (return a promise to pause reading).
 */
export async function collectSse(
  body: AsyncIterable<Uint8Array> | Iterable<Uint8Array> | ReadableStream<Uint8Array>,
  onEvent?: (event: TimedSseEvent) => void | Promise<void>,
): Promise<SseCapture> {
  const decoder = new TextDecoder();
  const events: TimedSseEvent[] = [];
  const reads: Array<{ bytes: number; atMs: number }> = [];
  let raw = '';
  let pending = '';
  let eventName: string | undefined;
  let data: string[] = [];
  let sawData = false;

  const iterable = body as AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
  for await (const chunk of iterable) {
    const atMs = performance.now();
    const read = reads.length;
    reads.push({ bytes: chunk.byteLength, atMs });
    const text = decoder.decode(chunk, { stream: true });
    raw += text;
    pending += text;
    // Keep a trailing '\r' back: it may be the first half of a '\r\n'.
    const lines = pending.split(/\r\n|\n|\r(?!$)/);
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (line === '') {
        if (sawData) {
          const event: TimedSseEvent = { event: eventName, data: data.join('\n'), atMs, read };
          events.push(event);
          if (onEvent) await onEvent(event);
        }
        eventName = undefined;
        data = [];
        sawData = false;
        continue;
      }
      if (line.startsWith(':')) continue; // comment
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') eventName = value;
      else if (field === 'data') {
        data.push(value);
        sawData = true;
      }
    }
  }
  raw += decoder.decode();
  return { events, reads, raw };
}

/** The `data` of each event parsed as JSON (skipping OpenAI's `[DONE]`). */
export function sseJson<T = Record<string, unknown>>(capture: SseCapture): T[] {
  return capture.events.filter((e) => e.data !== '[DONE]').map((e) => JSON.parse(e.data) as T);
}
