/**
 * TLS termination for intercepted CONNECTs: the accepted socket itself is wrapped in a server-side
 * TLSSocket with the host's leaf (from the CertificateSource) and handed to the one inner HTTP
 * server, or to the one inner HTTP/2 server when the client chose `h2` in ALPN. No per-host
 * servers, no extra loopback hop. The handshake is watched for pinned clients.
 */
import type http from 'node:http';
import type { H2Server } from './h2-server.js';
import type net from 'node:net';
import tls from 'node:tls';
import type { CertificateSource } from '../ca/certificate-source.js';
import type { ExchangeTarget } from './exchange-types.js';
import { TARGET, type InterceptedSocket } from './intercepted-socket.js';
import type { HandshakePacer, PacedStart } from './handshake-pacer.js';
import { isCertificateRejection } from './pinning.js';


/** The servers intercepted connections are handed to. */
export interface InnerServers {
  /** HTTP/1.1 (and clients that offer no ALPN). */
  readonly http1: http.Server;
  /** HTTP/2, offered in ALPN beside `http/1.1`; null offers `http/1.1` only. */
  readonly http2: H2Server | null;
  /** A client that offers h2 must finish its handshake within this (ms); HTTP/1.1's headers timeout bounds the others. */
  readonly handshakeMs: number;
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
 * Wraps `socket` (the CONNECT's after our 200, or the transparent door's) in TLS for `target` and
 * gives it to `inner`. The client's ClientHello, already read and parsed by the engine, waits in the
 * socket's buffer (`unshift`), where the TLS socket reads it first. With a
 * `pacer`, the three costly steps wait for the pacer's per-turn budget (handshake-pacer.ts): asking
 * for the host's certificate (for a new host, building and signing its leaf), creating the TLS
 * socket, and the server's part of the handshake once the ClientHello is in.
 */
export function intercept(socket: net.Socket, target: ExchangeTarget, certs: CertificateSource, inner: InnerServers, hooks: InterceptHooks, pacer: HandshakePacer | null = null, offersH2 = false): void {
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
      terminate(socket, target, ctx, inner, hooks, pacer, offersH2);
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

/**
 * Asks for `host`'s leaf right after a CONNECT's 200, paced like {@link intercept}'s first step,
 * while the client's ClientHello is on its way: the engine reads that first (who the client is,
 * what it names) and only then intercepts, which then finds the leaf ready or in flight. A failure
 * here is left for that later request to meet.
 */
export function prefetchLeaf(host: string, certs: CertificateSource, pacer: HandshakePacer | null): void {
  // Not skipped for a client gone meanwhile (its ClientHello read saw it half-close): the leaf
  // stays cached for its next connection, as it would have before the read.
  paced(pacer, () => {
    try {
      const context = certs.secureContext(host);
      if (context instanceof Promise) context.catch(() => {});
    } catch {
      // Met again, and reported, when the connection is intercepted.
    }
    return true;
  });
}

/** Runs `step` now without a pacer, else when the pacer's per-turn budget allows. */
function paced(pacer: HandshakePacer | null, step: PacedStart): void {
  if (pacer === null) step();
  else pacer.admit(step);
}

function terminate(socket: net.Socket, target: ExchangeTarget, secureContext: tls.SecureContext, inner: InnerServers, hooks: InterceptHooks, pacer: HandshakePacer | null, offersH2: boolean): void {
  const h2 = inner.http2 !== null && offersH2;
  const tlsSocket: InterceptedSocket = new tls.TLSSocket(socket, {
    isServer: true,
    secureContext,
    // Our preference decides (OpenSSL picks the server's first protocol the client offers): h2 for
    // a client that offers it, as a provider's own server would.
    ALPNProtocols: inner.http2 === null ? ['http/1.1'] : ['h2', 'http/1.1'],
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
    if (secured || reported) return;
    if (isCertificateRejection(err)) {
      reported = true;
      hooks.pinAbort(target.host, target.port, `client rejected the certificate (${err.code ?? 'alert'})`);
    } else if (err.code !== 'ECONNRESET' && err.code !== 'EPIPE') {
      // A handshake that failed for another reason (no shared cipher, a protocol error) is not pinning.
      reported = true;
    }
  });
  tlsSocket.once('close', () => {
    // A client that sent a real ClientHello (the engine parsed it before TLS started; bytes that
    // are not one never get here) and hung up during the handshake without an alert.
    if (!secured && !reported) {
      reported = true;
      hooks.pinAbort(target.host, target.port, 'client closed the connection during the TLS handshake');
    }
    socket.destroy();
  });
  if (!h2) {
    // The HTTP/1.1 server takes the socket before the handshake: its headers timeout bounds a
    // handshake that stalls, and it reads the first request in the handshake's last turn.
    inner.http1.emit('connection', tlsSocket);
    return;
  }
  // The client offered h2 (its ClientHello said so), so the protocol is known only once the
  // handshake ends: Node's HTTP/2 session must start on a secured socket (as its own TLS server does).
  const server = inner.http2 as H2Server;
  const stalled = (): void => {
    tlsSocket.destroy();
  };
  tlsSocket.setTimeout(inner.handshakeMs);
  tlsSocket.once('timeout', stalled);
  tlsSocket.once('secure', () => {
    tlsSocket.setTimeout(0);
    tlsSocket.off('timeout', stalled);
    if (tlsSocket.alpnProtocol === 'h2') {
      // What tls.Server does before 'secureConnection' (`onServerSocketSecure`): a TLSSocket made
      // without a server keeps `secureConnecting` set, and Node's HTTP/2 session would then wait
      // for a 'secureConnect' that a server-side socket never emits.
      (tlsSocket as tls.TLSSocket & { secureConnecting: boolean }).secureConnecting = false;
      server.emit('connection', tlsSocket);
    }
    else inner.http1.emit('connection', tlsSocket);
  });
}
