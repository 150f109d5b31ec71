/**
 * AWS's binary event stream (`application/vnd.amazon.eventstream`), parsed incrementally: chunks
 * may split a message anywhere. Each message is a prelude (total length, headers length, CRC32),
 * headers, a payload and a message CRC32; the maintained codec (`@smithy/eventstream-codec`, the
 * AWS SDK's own) decodes and checks each complete message, and this class only finds where one ends.
 *
 * Bedrock's messages become events a reader reads: `:event-type` names the event; a model's stream
 * chunk (`chunk`, payload `{"bytes":"<base64>"}`) is unwrapped to the model's own JSON event, named
 * by its `type` when it has one (Anthropic's `message_start`, `content_block_delta`…); an exception
 * (`:message-type: exception`) is `exception:<type>`.
 */
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import type { SseEvent } from '../sse.js';
import type { EventParser } from '../types.js';

const codec = new EventStreamCodec(toUtf8, fromUtf8);

/** Prelude: total length (4), headers length (4), prelude CRC (4). Trailer: message CRC (4). */
const MIN_MESSAGE = 16;
/** AWS caps an event stream message at 16 MiB (24 MiB with headers); larger means a corrupt stream. */
const MAX_MESSAGE = 24 * 1024 * 1024;

/** A Bedrock event stream, message by message. */
export class EventStreamParser implements EventParser {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): SseEvent[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: SseEvent[] = [];
    let at = 0;
    while (this.pending.length - at >= 4) {
      const total = this.pending.readUInt32BE(at);
      if (total < MIN_MESSAGE || total > MAX_MESSAGE) throw new Error(`event stream message of ${total} bytes: not an event stream`);
      if (this.pending.length - at < total) break;
      out.push(toEvent(this.pending.subarray(at, at + total)));
      at += total;
    }
    this.pending = at === this.pending.length ? Buffer.alloc(0) : this.pending.subarray(at);
    return out;
  }

  rest(): string {
    return '';
  }
}

function header(headers: Record<string, { value: unknown }>, name: string): string | null {
  const v = headers[name]?.value;
  return typeof v === 'string' ? v : null;
}

/** One complete message as an event (the codec checks both CRCs and throws on a mismatch). */
function toEvent(frame: Buffer): SseEvent {
  const message = codec.decode(frame);
  const body = Buffer.from(message.body.buffer, message.body.byteOffset, message.body.byteLength).toString('utf8');
  if (header(message.headers, ':message-type') === 'exception') return { raw: '', event: `exception:${header(message.headers, ':exception-type') ?? 'unknown'}`, data: body };
  const type = header(message.headers, ':event-type') ?? 'message';
  if (type !== 'chunk') return { raw: '', event: type, data: body };
  // InvokeModelWithResponseStream: the model's own event, base64 in `bytes`.
  let inner: string;
  try {
    const bytes = (JSON.parse(body) as { bytes?: unknown }).bytes;
    inner = typeof bytes === 'string' ? Buffer.from(bytes, 'base64').toString('utf8') : '';
  } catch {
    return { raw: '', event: 'chunk', data: '' };
  }
  let name: string = 'chunk';
  try {
    const t = (JSON.parse(inner) as { type?: unknown }).type;
    if (typeof t === 'string') name = t;
  } catch {
    // not JSON: read as an unnamed chunk
  }
  return { raw: '', event: name, data: inner };
}
