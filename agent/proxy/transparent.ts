/**
 * The transparent front door: the OS redirects a user's outgoing TCP connections to ports 443 and 80
 * here (`outpost transparent enable`, nftables `redirect`). The name to classify comes from the
 * ClientHello's SNI, or from a plain HTTP request's Host header; where the connection was going
 * comes from the kernel (`SO_ORIGINAL_DST`, ../system/original-dst.ts). The router then applies the
 * proxy door's classification: intercept, tunnel (to the original destination, never to wherever
 * the name points), or block.
 */
import type net from 'node:net';
import { originalDestination, type OriginalDestination } from '../system/original-dst.js';
import type { ClientHello } from './client-hello.js';
import { HELLO_TIMEOUT_MS, readClientHello } from './hello-reader.js';

/** What the door learnt about a connection. */
export type TransparentArrival =
  /** TLS: its ClientHello (the server name may be null). */
  | { readonly kind: 'tls'; readonly hello: ClientHello }
  /** TLS the door cannot read (not one ClientHello record): only a blind tunnel to `original` is possible. */
  | { readonly kind: 'opaque'; readonly reason: string }
  /** Plain HTTP: its first request's Host header (null when it has none). */
  | { readonly kind: 'http'; readonly host: string | null };

/** What the transparent door does with a connection once it has read its first bytes. */
export type TransparentRoute = (socket: net.Socket, bytes: Buffer, arrival: TransparentArrival, original: OriginalDestination | null) => void;

/** The largest plain-HTTP request head read to find the Host header. */
const MAX_HTTP_HEAD_BYTES = 16 * 1024;
const TLS_HANDSHAKE = 0x16;

type HeadResult = { kind: 'partial' } | { kind: 'invalid'; reason: string } | { kind: 'http'; host: string | null };

/** The Host header of the plain HTTP/1.x request head at the start of `data`. */
export function parseHttpHead(data: Buffer): HeadResult {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) {
    if (data.length > MAX_HTTP_HEAD_BYTES) return { kind: 'invalid', reason: 'request head too long' };
    // Fail early on bytes that cannot start a request line (an SSH banner, binary).
    return /^[A-Z]{1,16}( |$)/.test(data.subarray(0, 17).toString('latin1')) ? { kind: 'partial' } : { kind: 'invalid', reason: 'not an HTTP/1.x request' };
  }
  const lines = data.subarray(0, end).toString('latin1').split('\r\n');
  if (!/^[A-Z]+ \S+ HTTP\/1\.[01]$/.test(lines[0] ?? '')) return { kind: 'invalid', reason: 'not an HTTP/1.x request' };
  const host = lines.find((l) => /^host:/i.test(l));
  return { kind: 'http', host: host === undefined ? null : host.slice(5).trim() };
}

/** Reads the first bytes of an accepted connection, then hands it to `route` (or drops it). */
export function acceptTransparent(socket: net.Socket, route: TransparentRoute, onInvalid: (reason: string) => void): void {
  let original: OriginalDestination | null;
  try {
    original = originalDestination(socket);
  } catch (err) {
    onInvalid(`original destination unreadable: ${(err as Error).message}`);
    socket.destroy();
    return;
  }
  const refuse = (reason: string): void => {
    onInvalid(reason);
    socket.destroy();
  };
  let buffered: Buffer = Buffer.alloc(0);
  socket.setTimeout(HELLO_TIMEOUT_MS, () => socket.destroy());
  const onEnd = (): void => {
    socket.destroy();
  };
  const stop = (): void => {
    socket.off('data', onData);
    socket.off('end', onEnd);
    socket.pause();
  };
  const onData = (chunk: Buffer): void => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    if (buffered[0] === TLS_HANDSHAKE) {
      stop();
      readClientHello(socket, buffered, (result, bytes) => {
        socket.setTimeout(0);
        if (result.kind === 'hello') route(socket, bytes, { kind: 'tls', hello: result }, original);
        // TLS the door cannot name still goes where it was going when the kernel knows where.
        else if (original !== null) route(socket, bytes, { kind: 'opaque', reason: result.reason }, original);
        else refuse(result.reason);
      });
      return;
    }
    const head = parseHttpHead(buffered);
    if (head.kind === 'partial') return;
    stop();
    socket.setTimeout(0);
    if (head.kind === 'invalid') refuse(head.reason);
    else route(socket, buffered, head, original);
  };
  socket.on('data', onData);
  socket.once('end', onEnd);
}
