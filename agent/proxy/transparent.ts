/**
 * The transparent front door: the OS redirects a user's outgoing TCP connections to port 443 here
 * (`outpost transparent enable`), and the destination comes from the ClientHello's SNI. The same
 * classification follows as for CONNECT: intercept (the buffered ClientHello is replayed into our
 * TLS server), tunnel (replayed to the real host), or block (dropped and recorded).
 */
import type net from 'node:net';
import { parseAuthority } from './authority.js';
import { parseClientHello } from './client-hello.js';

/** What the transparent door does with a connection once it knows the host. */
export type TransparentRoute = (socket: net.Socket, hello: Buffer, host: string, port: number) => void;

/** How long a client may take to send its ClientHello before it is dropped (ms). */
const HELLO_TIMEOUT_MS = 10_000;

/** Reads the ClientHello of an accepted connection, then hands it to `route` (or drops it). */
export function acceptTransparent(socket: net.Socket, route: TransparentRoute, onInvalid: (reason: string) => void): void {
  let buffered: Buffer = Buffer.alloc(0);
  socket.setTimeout(HELLO_TIMEOUT_MS, () => socket.destroy());
  socket.on('error', () => socket.destroy());
  // A client that half-closes before its ClientHello is complete will never complete it: without
  // this, the socket (allowHalfOpen) would stay held until the timeout.
  const onEnd = (): void => {
    socket.destroy();
  };
  const onData = (chunk: Buffer): void => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    const result = parseClientHello(buffered);
    if (result.kind === 'partial') return;
    socket.off('data', onData);
    socket.off('end', onEnd);
    socket.pause();
    socket.setTimeout(0);
    if (result.kind === 'invalid') {
      onInvalid(result.reason);
      socket.destroy();
      return;
    }
    let host: string;
    try {
      host = parseAuthority(`${result.servername}:443`).host;
    } catch {
      onInvalid(`server name ${JSON.stringify(result.servername.slice(0, 100))} is not a host`);
      socket.destroy();
      return;
    }
    route(socket, buffered, host, 443);
  };
  socket.on('data', onData);
  socket.once('end', onEnd);
}
