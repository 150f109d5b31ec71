/**
 * The transparent front door: the OS redirects a user's outgoing TCP connections to port 443 here
 * (`outpost transparent enable`), and the destination comes from the ClientHello's SNI. The same
 * classification follows as for CONNECT: intercept (the buffered ClientHello is replayed into our
 * TLS server), tunnel (replayed to the real host), or block (dropped and recorded).
 */
import type net from 'node:net';
import { parseAuthority } from './authority.js';
import type { ClientHello } from './client-hello.js';
import { readClientHello } from './hello-reader.js';

/** What the transparent door does with a connection once it knows the host. */
export type TransparentRoute = (socket: net.Socket, hello: Buffer, host: string, port: number, parsed: ClientHello) => void;

/** Reads the ClientHello of an accepted connection, then hands it to `route` (or drops it). */
export function acceptTransparent(socket: net.Socket, route: TransparentRoute, onInvalid: (reason: string) => void): void {
  readClientHello(socket, Buffer.alloc(0), (result, bytes) => {
    if (result.kind === 'invalid') {
      onInvalid(result.reason);
      socket.destroy();
      return;
    }
    // Without SO_ORIGINAL_DST (Node has none) a ClientHello without a name has no destination.
    if (result.servername === null) {
      onInvalid('no server name');
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
    route(socket, bytes, host, 443, result);
  });
}
