/**
 * A plain HTTP CONNECT proxy that never decrypts: a stand-in for a corporate proxy (for the agent's
 * upstream chaining) and a way to check that a client's `proxyUrl` route works before the
 * agent's own proxy exists. Hosts in `resolve` are tunnelled to their mapped address (a fake
 * provider); any other host is refused, so a test can never reach the internet through it.
 */
import { createServer, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { closeServer, listenOnFreePort } from './ports.js';

/** A running tunnel proxy. */
export interface TunnelProxy {
  /** `http://127.0.0.1:PORT`, for `proxyUrl` / `HTTPS_PROXY`. */
  readonly url: string;
  readonly port: number;
  /** Every CONNECT target asked for (`api.openai.com:443`), refused ones included. */
  readonly connects: string[];
  /** The `proxy-authorization` header of each CONNECT, when one was sent. */
  readonly authorizations: string[];
  close(): Promise<void>;
}

/** Starts a CONNECT-only proxy on 127.0.0.1, port 0, tunnelling `resolve` hosts only. */
export async function startTunnelProxy(resolve: Readonly<Record<string, string>>): Promise<TunnelProxy> {
  const connects: string[] = [];
  const authorizations: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((_req, res) => {
    res.writeHead(405, { 'content-type': 'text/plain' }).end('CONNECT only\n');
  });
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    const target = req.url ?? '';
    connects.push(target);
    if (req.headers['proxy-authorization']) authorizations.push(req.headers['proxy-authorization']);
    const host = target.replace(/:\d+$/, '');
    const address = resolve[host];
    if (!address) {
      client.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    const at = address.lastIndexOf(':');
    const upstream = connect(Number(address.slice(at + 1)), address.slice(0, at));
    sockets.add(client).add(upstream);
    const forget = (): void => {
      sockets.delete(client);
      sockets.delete(upstream);
    };
    upstream.once('connect', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    // A reset on one side is passed on as a reset on the other, as a real tunnel would.
    upstream.once('error', () => client.resetAndDestroy());
    client.once('error', () => upstream.resetAndDestroy());
    upstream.once('close', forget);
    client.once('close', () => upstream.destroy());
  });
  const port = await listenOnFreePort(server);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    connects,
    authorizations,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await closeServer(server);
    },
  };
}
