/**
 * Listening on port 0 and closing servers, the two chores every socket test repeats.
 */
import { once } from 'node:events';
import type { AddressInfo, Server } from 'node:net';

/** Listens on `host` (loopback by default), port 0, and resolves with the port the OS chose. */
export async function listenOnFreePort(server: Server, host = '127.0.0.1'): Promise<number> {
  server.listen(0, host);
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/**
 * Closes a server and resolves once it has closed. HTTP servers also drop their open connections
 * (keep-alive sockets would otherwise hold `close()` open until they time out).
 */
export async function closeServer(server: Server): Promise<void> {
  if (!server.listening) return;
  const http = server as Server & { closeAllConnections?: () => void };
  http.closeAllConnections?.();
  await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
}
