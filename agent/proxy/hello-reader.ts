/**
 * Reading a connection's first TLS record before deciding what to do with it: the transparent
 * door (the destination is in the SNI), and the proxy door after a CONNECT's 200 (what the client
 * really asks for, who it is). Cheap: the bytes are read once and parsed in place; the caller then
 * replays them, into the socket (`socket.unshift`: a TLS socket created on it reads them first, on
 * the fast native path) or to the upstream of a tunnel.
 */
import type net from 'node:net';
import { parseClientHello, type HelloResult } from './client-hello.js';

/** How long a client may take to send its ClientHello before it is dropped (ms). */
export const HELLO_TIMEOUT_MS = 10_000;

/** What the first bytes said, and the bytes themselves (to replay). */
export type HelloRead = (result: Exclude<HelloResult, { kind: 'partial' }>, bytes: Buffer) => void;

/**
 * Reads `socket` (after `head`, bytes already received) until its first record parses, then
 * pauses the socket and calls `done`. A client that half-closes or stays silent past the timeout is
 * dropped (0: no timeout). The socket's own 'error' listener (listeners.ts) stays in place.
 */
export function readClientHello(socket: net.Socket, head: Buffer, done: HelloRead, timeoutMs = HELLO_TIMEOUT_MS): void {
  let buffered = head;
  const finish = (result: Exclude<HelloResult, { kind: 'partial' }>): void => {
    socket.off('data', onData);
    socket.off('end', onEnd);
    socket.pause();
    socket.setTimeout(0);
    done(result, buffered);
  };
  const onData = (chunk: Buffer): void => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    const result = parseClientHello(buffered);
    if (result.kind !== 'partial') finish(result);
  };
  // A client that half-closes before its ClientHello is complete will never complete it: without
  // this, the socket (allowHalfOpen) would stay held until the timeout.
  const onEnd = (): void => {
    socket.destroy();
  };
  if (head.length > 0) {
    const result = parseClientHello(head);
    if (result.kind !== 'partial') {
      socket.pause();
      done(result, head);
      return;
    }
  }
  if (timeoutMs > 0) socket.setTimeout(timeoutMs, () => socket.destroy());
  socket.on('data', onData);
  socket.once('end', onEnd);
  socket.resume();
}
