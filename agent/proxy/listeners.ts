/**
 * The loopback listeners and what a front door does with malformed input. Sockets accepted here
 * are handed to the engine's front HTTP server; nothing listens beyond loopback.
 */
import net from 'node:net';
import { ProxyError } from './errors.js';

/**
 * Listens on `host:port` (loopback only; the config schema refuses anything else). Every accepted
 * socket gets an 'error' listener for its whole life before `accept` sees it: a client may reset
 * at any stage, and Node's HTTP server removes its own listener when it hands a socket over
 * ('connect', 'upgrade'), so a refusal written after that (a blocked host's 403) met the reset
 * with no listener and the 'error' event took the process down (issue 10).
 */
export function listen(accept: (socket: net.Socket) => void, host: string, port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer({ noDelay: true, allowHalfOpen: true }, (socket) => {
      socket.on('error', dropSocket);
      accept(socket);
    });
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new ProxyError('PROXY_LISTEN', `cannot listen on ${host}:${port}: ${err.code ?? err.message}`)),
    );
    // A deep accept queue: with Node's default (511) a burst of connections overflows it and the
    // kernel drops their handshakes, leaving clients that wait seconds for SYN-ACK retransmits.
    server.listen({ host, port, ipv6Only: host === '::1', backlog: 4096 }, () => resolve(server));
  });
}

/**
 * A client socket's error (a reset, a write after the peer left) ends that connection and nothing
 * else. Node destroys a socket that errs; this listener only keeps the event from being unhandled.
 */
export function dropSocket(this: net.Socket): void {
  this.destroy();
}

/**
 * Answers malformed requests (bad bytes 400, oversized heads 431, slow heads 408) and drops the
 * connection. Installed as both HTTP servers' `clientError` handler.
 */
export function onClientError(err: NodeJS.ErrnoException, socket: net.Socket): void {
  if (socket.writable && !socket.destroyed && (socket as { _httpMessage?: unknown })._httpMessage == null) {
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const reason = status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request';
    socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
  }
  socket.destroy();
}

/** A complete plain-text HTTP/1.1 answer that closes the connection (CONNECT refusals). */
export function plainAnswer(status: number, reason: string, text: string): string {
  const body = `${text}\n`;
  return `HTTP/1.1 ${status} ${reason}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
}
