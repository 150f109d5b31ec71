/**
 * A governed WebSocket (the Realtime API): instead of splicing bytes, the agent is a WebSocket
 * server to the client and a WebSocket client to upstream (`ws` on both sides), and hands every
 * text message to the gate's session; binary messages, pings and closes pass as they are.
 *
 * Upstream is opened first, with the client's headers and subprotocols (Realtime browsers send
 * their key and beta flag as subprotocols), so the client's handshake is completed with the
 * subprotocol upstream chose, or answered with upstream's own refusal (status and body) when
 * upstream refuses. Compression is off on both sides: messages are read as text.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import WebSocket, { WebSocketServer, type RawData } from 'ws';
import type { InterceptedRequest, Respond, WebSocketSession } from '../pipeline/seam.js';
import type { ExchangeTarget } from './exchange-types.js';
import { isHopByHop } from './hop-by-hop.js';
import type { Dialer } from './upstream-dial.js';

/** One server for every governed upgrade: it only completes handshakes (`noServer`). */
const server = new WebSocketServer({ noServer: true, perMessageDeflate: false, handleProtocols: (_protocols, req) => (req as IncomingMessage & { [CHOSEN]?: string })[CHOSEN] ?? false });
const CHOSEN = Symbol('outpost.chosenSubprotocol');

/** Headers ws sets itself on the upstream handshake (and the hop-by-hop ones). */
const OWN_HEADERS = new Set(['host', 'upgrade', 'connection', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-extensions', 'sec-websocket-protocol', 'content-length']);

/** The upgrade request as the gate sees it (no body). */
export function upgradeRequest(req: IncomingMessage, target: ExchangeTarget, path: string): InterceptedRequest {
  return {
    id: randomUUID(),
    host: target.host,
    port: target.port,
    method: req.method ?? 'GET',
    path,
    headers: req.headers,
    body: Buffer.alloc(0),
    app: req.headers['user-agent'] ?? null,
    receivedAt: performance.now(),
    door: target.door ?? 'proxy',
  };
}

/** Writes a gate's answer on the raw client socket (the upgrade is refused). */
export function refuseUpgrade(client: Duplex, answer: Respond): void {
  let head = `HTTP/1.1 ${answer.status} Refused\r\n`;
  for (const [name, value] of Object.entries(answer.headers)) head += `${name}: ${value}\r\n`;
  client.end(`${head}content-length: ${Buffer.byteLength(answer.body)}\r\nconnection: close\r\n\r\n${answer.body}`);
}

/** Bridges `req`'s upgrade through `session`. */
export function bridgeWebSocket(req: IncomingMessage, client: Duplex, head: Buffer, target: ExchangeTarget, path: string, dialer: Dialer, trust: tls.SecureContext, session: WebSocketSession): void {
  client.on('error', () => client.destroy());
  dialer.dial(target.host, target.port).then(
    (raw) => {
      if (client.destroyed) {
        raw.destroy();
        session.closed('the client went away');
        return;
      }
      connectUpstream(req, client, head, target, path, raw, trust, session);
    },
    (err: Error) => {
      session.closed(`upstream unreachable: ${err.message}`);
      client.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
    },
  );
}

function connectUpstream(req: IncomingMessage, client: Duplex, head: Buffer, target: ExchangeTarget, path: string, raw: net.Socket, trust: tls.SecureContext, session: WebSocketSession): void {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || OWN_HEADERS.has(name) || isHopByHop(name)) continue;
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  const protocols = (req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  const scheme = target.secure ? 'wss' : 'ws';
  const port = target.port === (target.secure ? 443 : 80) ? '' : `:${target.port}`;
  const socket = target.secure ? tls.connect({ socket: raw, servername: target.host, secureContext: trust, ALPNProtocols: ['http/1.1'] }) : raw;
  const upstream = new WebSocket(`${scheme}://${target.host}${port}${path}`, protocols, { headers, perMessageDeflate: false, createConnection: () => socket });
  let open = false;

  upstream.on('unexpected-response', (_r, res) => {
    // Upstream refused the handshake (a bad key, a missing model): the client gets its answer.
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => {
      const body = Buffer.concat(chunks);
      const type = res.headers['content-type'] ?? 'application/json';
      client.end(`HTTP/1.1 ${res.statusCode ?? 502} ${res.statusMessage ?? ''}\r\ncontent-type: ${type}\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body.toString('utf8')}`);
      session.closed(`upstream refused the handshake (${res.statusCode ?? 0})`);
    });
  });
  upstream.on('error', (err) => {
    if (!open) {
      if (!client.destroyed) client.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
      session.closed(`upstream failed: ${err.message}`);
    }
  });
  upstream.on('open', () => {
    open = true;
    (req as IncomingMessage & { [CHOSEN]?: string })[CHOSEN] = upstream.protocol;
    server.handleUpgrade(req, client, head, (ws) => relay(ws, upstream, session));
  });
}

function relay(client: WebSocket, upstream: WebSocket, session: WebSocketSession): void {
  let ended = false;
  const end = (error: string | null): void => {
    if (ended) return;
    ended = true;
    session.closed(error);
  };
  client.on('message', (data: RawData, binary: boolean) => {
    if (binary) {
      upstream.send(data, { binary: true });
      return;
    }
    const { forward, reply } = session.fromClient(text(data));
    if (reply !== null) client.send(reply);
    if (forward !== null) upstream.send(forward);
  });
  upstream.on('message', (data: RawData, binary: boolean) => {
    if (!binary) session.fromServer(text(data));
    client.send(data, { binary });
  });
  client.on('close', (code, reason) => {
    if (upstream.readyState === WebSocket.OPEN) upstream.close(closable(code), reason);
    end(null);
  });
  upstream.on('close', (code, reason) => {
    if (client.readyState === WebSocket.OPEN) client.close(closable(code), reason);
    end(null);
  });
  client.on('error', (err) => {
    upstream.terminate();
    end(`client failed: ${err.message}`);
  });
  upstream.on('error', (err) => {
    client.terminate();
    end(`upstream failed: ${err.message}`);
  });
}

function text(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8');
}

/** A close code that may be sent on (1005/1006/1015 are reserved: never on the wire). */
function closable(code: number): number {
  return code === 1005 || code === 1006 || code === 1015 ? 1000 : code;
}
