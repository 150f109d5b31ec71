/**
 * Raw HTTP/2 frames (RFC 9113 §4) and HPACK literals (RFC 7541 §6.2.2), for tests that must send
 * what no well-behaved client would: CONTINUATION floods, header-list bombs, SETTINGS floods, rapid
 * resets. `h2Raw` opens a TLS connection through the proxy offering only `h2` and sends the preface;
 * `readFrames` parses what the server sends back.
 */
import tls from 'node:tls';
import { connectTunnel } from './h2-client.js';

/** Frame types used here. */
export const FRAME = { DATA: 0x0, HEADERS: 0x1, RST_STREAM: 0x3, SETTINGS: 0x4, PING: 0x6, GOAWAY: 0x7, WINDOW_UPDATE: 0x8, CONTINUATION: 0x9 } as const;
/** Flags used here. */
export const FLAG = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4 } as const;

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** One frame: 9-byte header, then the payload. */
export function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head.writeUInt8(type, 3);
  head.writeUInt8(flags, 4);
  head.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

/** An HPACK integer with an `n`-bit prefix (RFC 7541 §5.1), first byte's high bits from `high`. */
function hpackInt(value: number, n: number, high = 0): Buffer {
  const max = (1 << n) - 1;
  if (value < max) return Buffer.from([high | value]);
  const bytes = [high | max];
  let rest = value - max;
  while (rest >= 128) {
    bytes.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

function hpackString(text: string): Buffer {
  const bytes = Buffer.from(text, 'latin1');
  return Buffer.concat([hpackInt(bytes.length, 7), bytes]);
}

/** A header block of literal fields without indexing, new names (RFC 7541 §6.2.2). */
export function headerBlock(fields: ReadonlyArray<readonly [string, string]>): Buffer {
  return Buffer.concat(fields.flatMap(([name, value]) => [Buffer.from([0x00]), hpackString(name), hpackString(value)]));
}

/** The request pseudo-headers for `GET path` on `host`. */
export function requestFields(host: string, path = '/v1/models', method = 'GET'): Array<[string, string]> {
  return [
    [':method', method],
    [':scheme', 'https'],
    [':authority', host],
    [':path', path],
  ];
}

/** A SETTINGS frame with `entries` (id, value) pairs. */
export function settings(entries: ReadonlyArray<readonly [number, number]> = []): Buffer {
  const payload = Buffer.alloc(entries.length * 6);
  entries.forEach(([id, value], i) => {
    payload.writeUInt16BE(id, i * 6);
    payload.writeUInt32BE(value, i * 6 + 2);
  });
  return frame(FRAME.SETTINGS, 0, 0, payload);
}

/** A parsed frame from the server. */
export interface ServerFrame {
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  readonly payload: Buffer;
}

/** A raw h2 connection through the proxy: preface and an empty SETTINGS already sent. */
export interface RawH2 {
  readonly socket: tls.TLSSocket;
  /** Frames received so far (parsed as they arrive). */
  readonly frames: ServerFrame[];
  /** Resolves when the connection closes (either side). */
  readonly closed: Promise<void>;
  /** The GOAWAY's error code once one arrived, else null. */
  goaway(): number | null;
  /** Resolves with the first frame `match` accepts (already received or still to come), or null if the connection closes first. */
  frame(match: (f: ServerFrame) => boolean): Promise<ServerFrame | null>;
}

/** Opens TLS to `host` through the proxy, offering only h2, and sends the connection preface. */
export async function h2Raw(proxyUrl: string, host: string, ca: string): Promise<RawH2> {
  const tunnel = await connectTunnel(proxyUrl, `${host}:443`);
  const socket = tls.connect({ socket: tunnel, servername: host, ca, ALPNProtocols: ['h2'] });
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', resolve);
    socket.once('error', reject);
  });
  if (socket.alpnProtocol !== 'h2') throw new Error(`the proxy chose ${String(socket.alpnProtocol)}, not h2`);
  const frames: ServerFrame[] = [];
  let pending = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 9) {
      const length = pending.readUIntBE(0, 3);
      if (pending.length < 9 + length) break;
      frames.push({ type: pending.readUInt8(3), flags: pending.readUInt8(4), streamId: pending.readUInt32BE(5) & 0x7fffffff, payload: pending.subarray(9, 9 + length) });
      pending = pending.subarray(9 + length);
    }
  });
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.write(Buffer.concat([PREFACE, settings()]));
  return {
    socket,
    frames,
    closed,
    goaway() {
      const g = frames.find((f) => f.type === FRAME.GOAWAY);
      return g === undefined ? null : g.payload.readUInt32BE(4);
    },
    async frame(match) {
      for (;;) {
        const found = frames.find(match);
        if (found !== undefined) return found;
        if (socket.destroyed) return null;
        await new Promise((resolve) => socket.once('data', resolve).once('close', resolve));
      }
    },
  };
}

/** RST_STREAM and GOAWAY error codes (RFC 9113 §7). */
export const H2_ERROR = { NO_ERROR: 0x0, PROTOCOL_ERROR: 0x1, INTERNAL_ERROR: 0x2, FLOW_CONTROL_ERROR: 0x3, REFUSED_STREAM: 0x7, CANCEL: 0x8, COMPRESSION_ERROR: 0x9, ENHANCE_YOUR_CALM: 0xb } as const;
