/**
 * TLS termination for intercepted CONNECTs: the accepted socket itself is wrapped in a server-side
 * TLSSocket with the host's leaf (from the CertificateSource) and handed to the one inner HTTP
 * server. No per-host servers, no extra loopback hop. The handshake is watched for pinned clients.
 */
import type http from 'node:http';
import type net from 'node:net';
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import type { CertificateSource } from '../ca/certificate-source.js';
import type { ExchangeTarget } from './exchange.js';
import type { HandshakePacer, PacedStart } from './handshake-pacer.js';
import { isCertificateRejection } from './pinning.js';

/** Where an intercepted TLS socket was going; set on the socket so each request finds it in O(1). */
export const TARGET: unique symbol = Symbol('outpost.target');

/** A TLS socket the engine terminated. */
export interface InterceptedSocket extends tls.TLSSocket {
  [TARGET]?: ExchangeTarget;
}

/** What interception reports back to the engine. */
export interface InterceptHooks {
  /** The client aborted our handshake in a way that suggests certificate pinning. */
  pinAbort(host: string, port: number, reason: string): void;
  /** The handshake completed. */
  secured(host: string): void;
  /** No certificate could be had for the host. */
  certificateFailed(host: string, error: Error): void;
}

/**
 * Wraps `socket` (the CONNECT's, after our 200) in TLS for `target` and gives it to `inner`. With a
 * `pacer`, the three costly steps wait for the pacer's per-turn budget (handshake-pacer.ts): asking
 * for the host's certificate (for a new host, building and signing its leaf), creating the TLS
 * socket, and the server's part of the handshake once the ClientHello is in.
 */
export function intercept(socket: net.Socket, head: Buffer, target: ExchangeTarget, certs: CertificateSource, inner: http.Server, hooks: InterceptHooks, pacer: HandshakePacer | null = null): void {
  // Until the TLS socket exists, an early client error must not go unhandled.
  const onError = (): void => {
    socket.destroy();
  };
  socket.on('error', onError);
  const failed = (err: Error): void => {
    socket.off('error', onError);
    hooks.certificateFailed(target.host, err);
  };
  // Deferred sockets stay as they are: bytes the client sends meanwhile (its ClientHello) wait in
  // the kernel or the socket's buffer, and the TLS socket reads them first when it starts.
  const start = (ctx: tls.SecureContext): void =>
    paced(pacer, () => {
      socket.off('error', onError);
      if (socket.destroyed) return false;
      terminate(socket, head, target, ctx, inner, hooks, pacer);
      return true;
    });
  // A burst of CONNECTs is read in one poll phase; each new host's leaf costs ~0.1–0.2 ms of
  // main-thread work before its signature goes to the thread pool: a few per turn.
  paced(pacer, () => {
    if (socket.destroyed) return false;
    let context: tls.SecureContext | Promise<tls.SecureContext>;
    try {
      context = certs.secureContext(target.host);
    } catch (err) {
      failed(err as Error);
      return true;
    }
    if (context instanceof Promise) context.then(start, failed);
    else start(context);
    return true;
  });
}

/** Runs `step` now without a pacer, else when the pacer's per-turn budget allows. */
function paced(pacer: HandshakePacer | null, step: PacedStart): void {
  if (pacer === null) step();
  else pacer.admit(step);
}

function terminate(socket: net.Socket, head: Buffer, target: ExchangeTarget, secureContext: tls.SecureContext, inner: http.Server, hooks: InterceptHooks, pacer: HandshakePacer | null): void {
  // Bytes the client sent right after CONNECT (a ClientHello sent without waiting for our 200)
  // are in `head`, outside the socket's handle that TLS reads from: feed them through a stream.
  const transport: Duplex = head.length === 0 ? socket : prepend(socket, head);
  const bytesBefore = socket.bytesRead;
  const tlsSocket: InterceptedSocket = new tls.TLSSocket(transport, {
    isServer: true,
    secureContext,
    // HTTP/1.1 only: the one inner server speaks HTTP/1.1 (issue 4).
    ALPNProtocols: ['http/1.1'],
    // Pacing: Node calls this once the ClientHello is parsed, before the server does the costly
    // part of the handshake (key share, signature), which waits until `done` is called. The leaf
    // is already in `secureContext`, so the answer adds no context (undefined keeps it).
    ...(pacer === null
      ? {}
      : {
          SNICallback: (_servername: string, done: (err: Error | null, ctx?: tls.SecureContext) => void): void => {
            pacer.admit(() => {
              if (tlsSocket.destroyed) return false;
              done(null, undefined);
              return true;
            });
          },
        }),
  });
  tlsSocket[TARGET] = target;
  let secured = false;
  let reported = false;
  tlsSocket.once('secure', () => {
    secured = true;
    hooks.secured(target.host);
  });
  tlsSocket.on('error', (err: NodeJS.ErrnoException) => {
    if (!secured && !reported && isCertificateRejection(err)) {
      reported = true;
      hooks.pinAbort(target.host, target.port, `client rejected the certificate (${err.code ?? 'alert'})`);
    }
  });
  tlsSocket.once('close', () => {
    // A client that read our ServerHello and certificate and hung up without an alert.
    // (The ClientHello is in `head` when the transparent door or an eager client sent it early.)
    if (!secured && !reported && (head.length > 0 || socket.bytesRead > bytesBefore)) {
      reported = true;
      hooks.pinAbort(target.host, target.port, 'client closed the connection during the TLS handshake');
    }
    socket.destroy();
  });
  inner.emit('connection', tlsSocket);
}

/** A duplex over `socket` that first yields `head`. Rare path (clients wait for the 200). */
function prepend(socket: net.Socket, head: Buffer): Duplex {
  const duplex = new Duplex({
    read(): void {
      socket.resume();
    },
    write(chunk: Buffer, _enc, cb): void {
      socket.write(chunk, cb);
    },
    final(cb): void {
      socket.end();
      cb();
    },
    destroy(err, cb): void {
      socket.destroy();
      cb(err);
    },
  });
  duplex.push(head);
  socket.on('data', (d: Buffer) => {
    if (!duplex.push(d)) socket.pause();
  });
  socket.on('end', () => duplex.push(null));
  socket.on('error', (err) => duplex.destroy(err));
  socket.on('close', () => duplex.destroy());
  return duplex;
}
