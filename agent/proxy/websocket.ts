/**
 * WebSocket (and any other HTTP/1.1 Upgrade) pass-through on intercepted and forwarded
 * connections: the request head is replayed upstream over a fresh connection and, from then on,
 * bytes are spliced both ways. Frames are not inspected.
 */
import type { IncomingMessage } from 'node:http';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import type { ExchangeTarget } from './exchange-types.js';
import { isHopByHop } from './hop-by-hop.js';
import { splice } from './tunnel.js';
import type { Dialer } from './upstream-dial.js';

/** Dials upstream for `req`'s upgrade and splices it with `client`. */
export function passUpgrade(req: IncomingMessage, client: Duplex, head: Buffer, target: ExchangeTarget, path: string, dialer: Dialer, trust: tls.SecureContext): void {
  client.on('error', () => client.destroy());
  dialer.dial(target.host, target.port).then(
    (raw) => {
      if (client.destroyed) {
        raw.destroy();
        return;
      }
      const upstream: net.Socket = target.secure ? tls.connect({ socket: raw, servername: target.host, secureContext: trust, ALPNProtocols: ['http/1.1'] }) : raw;
      upstream.write(requestHead(req, path));
      if (head.length > 0) upstream.write(head);
      splice(client, upstream);
    },
    () => {
      client.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
    },
  );
}

/** The request head as sent upstream: `Connection`/`Upgrade` kept (they are the point), proxy fields dropped. */
function requestHead(req: IncomingMessage, path: string): string {
  let head = `${req.method ?? 'GET'} ${path} HTTP/1.1\r\n`;
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? '';
    const lower = name.toLowerCase();
    if (lower !== 'connection' && lower !== 'upgrade' && isHopByHop(lower)) continue;
    head += `${name}: ${raw[i + 1] ?? ''}\r\n`;
  }
  return `${head}\r\n`;
}
