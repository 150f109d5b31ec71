/**
 * The loopback listeners and what a front door does with malformed input. Sockets accepted here
 * are handed to the engine's front HTTP server; nothing listens beyond loopback.
 */
import type { ServerResponse } from 'node:http';
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
 * Answers malformed requests (bad bytes or a malformed chunk size 400, oversized heads 431, slow
 * heads 408) and drops the connection. Installed as both HTTP servers' `clientError` handler.
 *
 * The answer goes out in its turn (RFC 9112 §9.3: responses in the order of the requests). A
 * request's body is read whole before anything is forwarded, so a broken one never went upstream;
 * but requests pipelined ahead of it may still be answering: the 400 waits for them.
 */
export function onClientError(err: NodeJS.ErrnoException, socket: net.Socket): void {
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const reason = status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request';
  // Once per connection: bytes after the error feed the failed parser again and Node reports it
  // again. The socket keeps reading (not paused), so that a client that resets is still noticed.
  if (answered.has(socket)) return;
  answered.add(socket);
  answerInTurn(socket, `HTTP/1.1 ${status} ${reason}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
}

/**
 * Tells a client that half-closed apart from one that went away, for the HTTP servers, which run
 * half-open. A FIN before any answer has started is a client done writing: every request it sent
 * is answered, in order, and then the connection closes (Node's HTTP server does that). A FIN in
 * the middle of an answer is a client that left (a cancelled stream): the connection is dropped,
 * so the exchange stops its upstream request at once rather than at its next chunk.
 */
export function onHalfClose(socket: net.Socket): void {
  socket.once('end', () => {
    const current = inFlight(socket);
    if (current !== null && current.headersSent && !current.writableFinished) socket.destroy();
  });
}

/** Connections whose malformed request is being answered. */
const answered = new WeakSet<net.Socket>();

/** The response Node's HTTP server is sending on `socket` now (an internal field; null between responses). */
function inFlight(socket: net.Socket): ServerResponse | null {
  return (socket as { _httpMessage?: ServerResponse | null })._httpMessage ?? null;
}

/**
 * Writes `answer` once the responses to earlier requests are done, then closes. The broken request
 * is either the one whose response is in flight (its body was being read: `req.complete` false) or
 * comes after it; when the in-flight response has started, nothing more can be said on it.
 */
function answerInTurn(socket: net.Socket, answer: string): void {
  if (socket.destroyed) return;
  const current = inFlight(socket);
  if (current !== null && current.req.complete) {
    // An earlier request's response: once it ends Node moves on to the next, and so do we.
    current.once('finish', () => answerInTurn(socket, answer));
    current.once('close', () => {
      if (!current.writableFinished) socket.destroy();
    });
    return;
  }
  if (current !== null && current.headersSent) {
    socket.destroy();
    return;
  }
  // Written, then dropped at once, as Node's own clientError answer is: the bytes are with the
  // kernel when `end` returns, and waiting for 'finish' could wait forever on a client that left
  // (a TLS socket that read the client's FIN never finished its write).
  if (socket.writable) socket.end(answer);
  socket.destroy();
}

/** A complete plain-text HTTP/1.1 answer that closes the connection (CONNECT refusals). */
export function plainAnswer(status: number, reason: string, text: string): string {
  const body = `${text}\n`;
  return `HTTP/1.1 ${status} ${reason}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
}
