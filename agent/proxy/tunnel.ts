/**
 * Blind tunnels: for hosts the policy does not govern (and bypassed or pinned ones), the CONNECT's
 * bytes are copied both ways and never decrypted. The upstream is dialled first, so a refused
 * destination is answered 502 instead of a 200 followed by a reset.
 */
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import type { HelloResult } from './client-hello.js';
import { readClientHello } from './hello-reader.js';
import type { Dialer } from './upstream-dial.js';

/** Copies bytes both ways until either side closes; an error on one side tears down both. */
export function splice(a: Duplex, b: Duplex): void {
  const teardown = (): void => {
    a.destroy();
    b.destroy();
  };
  a.on('error', teardown);
  b.on('error', teardown);
  a.on('close', teardown);
  b.on('close', teardown);
  a.pipe(b);
  b.pipe(a);
}

/**
 * Looks at a tunnel's first client record before any of it goes upstream (the TLS server name of a
 * CONNECT to a harmless host may name a governed one). `upstreamSpoke`: the upstream already sent
 * bytes to the client (a server-first protocol), so the connection can no longer be intercepted.
 * Returns true to let the tunnel go on (the bytes are replayed upstream); false when the caller
 * took the client socket (its bytes are the caller's), and the upstream is dropped.
 */
export type TunnelInspector = (result: Exclude<HelloResult, { kind: 'partial' }>, bytes: Buffer, upstreamSpoke: boolean) => boolean;

/**
 * Opens the tunnel for an accepted CONNECT. `answered`: the CONNECT was already answered 200 (the
 * engine read the client's ClientHello first). With `inspect`, the client's first record is read
 * and shown to it before it goes upstream; bytes from upstream flow to the client meanwhile.
 */
export function tunnel(client: net.Socket, head: Buffer, host: string, port: number, dialer: Dialer, answered = false, inspect?: TunnelInspector): void {
  // Until the tunnel stands, a client error must not crash the agent.
  const onEarlyError = (): void => {
    client.destroy();
  };
  client.on('error', onEarlyError);
  dialer.dial(host, port).then(
    (upstream) => {
      client.off('error', onEarlyError);
      if (client.destroyed) {
        upstream.destroy();
        return;
      }
      if (!answered) client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (inspect !== undefined) {
        inspectFirst(client, upstream, head, inspect);
        return;
      }
      if (head.length > 0) upstream.write(head);
      splice(client, upstream);
      upstream.resume();
    },
    (err: Error) => {
      client.off('error', onEarlyError);
      client.on('error', () => {});
      if (answered) {
        client.destroy();
        return;
      }
      const reason = `Outpost could not reach ${host}:${port}: ${err.message}\n`;
      client.end(`HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(reason)}\r\nconnection: close\r\n\r\n${reason}`);
    },
  );
}

/**
 * Reads the client's first record (no timeout: a server-first protocol's client may wait), with
 * upstream's bytes passed to the client meanwhile, then lets `inspect` decide. Costs one parse of
 * the first chunk: the bytes go upstream in the same turn they arrive.
 */
function inspectFirst(client: net.Socket, upstream: net.Socket, head: Buffer, inspect: TunnelInspector): void {
  let spoke = false;
  const toClient = (data: Buffer): void => {
    spoke = true;
    client.write(data);
  };
  const drop = (): void => {
    client.destroy();
    upstream.destroy();
  };
  upstream.on('data', toClient);
  upstream.once('close', drop);
  upstream.on('error', drop);
  client.once('close', drop);
  readClientHello(
    client,
    head,
    (result, bytes) => {
      upstream.off('data', toClient);
      upstream.off('close', drop);
      upstream.off('error', drop);
      client.off('close', drop);
      if (!inspect(result, bytes, spoke)) {
        upstream.on('error', () => {});
        upstream.destroy();
        return;
      }
      upstream.write(bytes);
      splice(client, upstream);
      client.resume();
      upstream.resume();
    },
    0,
  );
}
