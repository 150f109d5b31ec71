/**
 * Writing responses: JSON bodies and SSE streams, with the stream knobs (spacing, hold, reset).
 */
import { randomBytes } from 'node:crypto';
import type { OutgoingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import zlib from 'node:zlib';
import type { Exchange, FakeCoding } from './types.js';

/** The SSE content type both OpenAI and Anthropic send. */
export const SSE_CONTENT_TYPE = 'text/event-stream; charset=utf-8';

/** A random id with the provider's prefix: `chatcmpl-…`, `msg_…`, `req_…`. */
export function randomId(prefix: string, bytes = 12): string {
  return `${prefix}${randomBytes(bytes).toString('hex')}`;
}

/** A `data:` only SSE event (OpenAI chat completions, Gemini). */
export function dataEvent(payload: unknown): string {
  return `data: ${typeof payload === 'string' ? payload : JSON.stringify(payload)}\n\n`;
}

/** A named SSE event (Anthropic messages, OpenAI Responses). */
export function namedEvent(name: string, payload: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(payload)}\n\n`;
}

/** A streaming compressor for a zlib `coding`, and the flush that makes it emit what it has. */
function compressor(coding: Exclude<FakeCoding, 'zstd'>): { stream: zlib.Gzip | zlib.Deflate | zlib.BrotliCompress; flush: number } {
  if (coding === 'gzip') return { stream: zlib.createGzip(), flush: zlib.constants.Z_SYNC_FLUSH };
  if (coding === 'deflate') return { stream: zlib.createDeflate(), flush: zlib.constants.Z_SYNC_FLUSH };
  return { stream: zlib.createBrotliCompress(), flush: zlib.constants.BROTLI_OPERATION_FLUSH };
}

/** zstd's largest block (RFC 8878 §3.1.1.2.4). */
const ZSTD_BLOCK = 128 * 1024;

/**
 * `bytes` as one zstd frame of raw (stored) blocks (RFC 8878 §3.1.1): valid zstd that any decoder
 * reads, built without a zstd compressor (Node 20 has none). Frames concatenate, so a stream sends
 * one per event.
 */
export function zstdFrame(bytes: Buffer): Buffer {
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0xa0]), Buffer.alloc(4)];
  // Frame header descriptor 0xa0: single segment, a 4-byte content size, no checksum, no dictionary.
  (parts[1] as Buffer).writeUInt32LE(bytes.length);
  let at = 0;
  do {
    const block = bytes.subarray(at, at + ZSTD_BLOCK);
    at += block.length;
    const header = (block.length << 3) | (at >= bytes.length ? 1 : 0); // raw block type 0, last-block bit
    parts.push(Buffer.from([header & 0xff, (header >> 8) & 0xff, (header >> 16) & 0xff]), block);
  } while (at < bytes.length);
  return Buffer.concat(parts);
}

/** `bytes` compressed with `coding`, whole. */
function compressWhole(coding: FakeCoding, bytes: Buffer): Buffer {
  if (coding === 'gzip') return zlib.gzipSync(bytes);
  if (coding === 'deflate') return zlib.deflateSync(bytes);
  if (coding === 'br') return zlib.brotliCompressSync(bytes);
  return zstdFrame(bytes);
}

/** Answers a JSON body (compressed with `knobs.compress`, or garbage that claims it with `knobs.corrupt`; a bomb with `knobs.bombBytes`). */
export function sendJson(exchange: Exchange, status: number, headers: OutgoingHttpHeaders, body: unknown): void {
  const { knobs } = exchange;
  if (knobs.bombBytes !== null) {
    sendBomb(exchange, status, headers, knobs.bombBytes, null);
    return;
  }
  const plain = Buffer.from(JSON.stringify(body));
  const bytes = knobs.compress === null ? plain : knobs.corrupt ? Buffer.from('these bytes are not compressed') : compressWhole(knobs.compress, plain);
  exchange.res.writeHead(status, { ...headers, 'content-length': bytes.length, ...(knobs.compress === null ? {} : { 'content-encoding': knobs.compress }) });
  if (knobs.resetMidBody) exchange.res.write(bytes.subarray(0, bytes.length >> 1), () => resetConnection(exchange.res.socket));
  else exchange.res.end(bytes);
}

/** One gzip member of 1 MiB of zeros (~1 KiB): members concatenate into one valid gzip body. */
let bombMember: Buffer | null = null;

/** A gzip bomb of `bytes` decoded bytes (after `first`, an ordinary SSE event, when given). */
function sendBomb(exchange: Exchange, status: number, headers: OutgoingHttpHeaders, bytes: number, first: string | null): void {
  const { res } = exchange;
  const member = (bombMember ??= zlib.gzipSync(Buffer.alloc(1024 * 1024)));
  res.writeHead(status, { ...headers, 'content-encoding': 'gzip' });
  if (first !== null) res.write(zlib.gzipSync(first));
  let left = Math.ceil(bytes / (1024 * 1024));
  // Written as the socket takes it: the bomb is small on the wire, but a proxy that refuses it
  // closes the connection mid-way.
  const more = (): void => {
    while (left > 0 && !res.destroyed) {
      left--;
      if (!res.write(member)) {
        res.once('drain', more);
        return;
      }
    }
    if (!res.destroyed) res.end();
  };
  more();
}

/**
 * Streams SSE events one write each (so each event leaves in its own TLS record), honouring
 * `chunkDelayMs` between events, `holdAfterEvents`, `streamErrorAfterEvents` (sending
 * `errorEvent`, the provider's in-stream error) and `resetAfterEvents`.
 */
export async function sendEvents(
  exchange: Exchange,
  headers: OutgoingHttpHeaders,
  events: readonly string[],
  errorEvent?: string,
): Promise<void> {
  const { res, knobs } = exchange;
  if (knobs.bombBytes !== null) {
    sendBomb(exchange, 200, headers, knobs.bombBytes, events[0] ?? null);
    return;
  }
  const coding = knobs.compress;
  res.writeHead(200, coding === null ? headers : { ...headers, 'content-encoding': coding });
  res.flushHeaders();
  // Compressed: each event goes through the compressor and is flushed, so it leaves at once (zstd:
  // one frame per event).
  const z = coding === null || coding === 'zstd' ? null : compressor(coding);
  z?.stream.pipe(res);
  const encode = (text: string): Buffer | string => (coding === 'zstd' ? zstdFrame(Buffer.from(text)) : text);
  const write = (text: string): Promise<void> =>
    z === null ? new Promise<void>((resolve) => res.write(encode(text), () => resolve())) : new Promise<void>((resolve) => z.stream.write(text, () => z.stream.flush(z.flush, () => resolve())));
  const end = (text?: string): void => {
    if (z !== null) z.stream.end(text);
    else if (text === undefined) res.end();
    else res.end(encode(text));
  };
  for (let i = 0; i < events.length; i++) {
    if (i > 0 && knobs.chunkDelayMs > 0) await sleep(knobs.chunkDelayMs);
    if (knobs.holdAfterEvents === i) await exchange.held();
    if (knobs.streamErrorAfterEvents === i && errorEvent !== undefined) {
      end(errorEvent);
      return;
    }
    if (knobs.resetAfterEvents === i) {
      resetConnection(res.socket);
      return;
    }
    if (res.destroyed) return; // the client went away
    await write(events[i] as string);
  }
  end();
}

/**
 * Drops the connection mid-response with a TCP reset, so the peer sees ECONNRESET as when a
 * provider's load balancer cuts a stream. A TLSSocket's own handle cannot reset (it is not a TCP
 * handle), so the reset goes to the TCP socket beneath it (Node's internal `_parent`); where that
 * is missing, a plain destroy (the peer sees the connection close early). Either way the chunked
 * body never ends, so clients must fail.
 */
function resetConnection(socket: Socket | null): void {
  if (!socket) return;
  const tcp = (socket as Socket & { _parent?: Socket | null })._parent ?? socket;
  try {
    tcp.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}
