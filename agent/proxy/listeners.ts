/**
 * The loopback listeners and what a front door does with malformed input. Sockets accepted here
 * are handed to the engine's front HTTP server; nothing listens beyond loopback.
 */
import net from 'node:net';
import { ProxyError } from './errors.js';

/** Listens on `host:port` (loopback only; the config schema refuses anything else). */
export function listen(accept: (socket: net.Socket) => void, host: string, port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer({ noDelay: true, allowHalfOpen: true }, accept);
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new ProxyError('PROXY_LISTEN', `cannot listen on ${host}:${port}: ${err.code ?? err.message}`)),
    );
    // A deep accept queue: with Node's default (511) a burst of connections overflows it and the
    // kernel drops their handshakes, leaving clients that wait seconds for SYN-ACK retransmits.
    server.listen({ host, port, ipv6Only: host === '::1', backlog: 4096 }, () => resolve(server));
  });
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
