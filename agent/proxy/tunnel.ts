/**
 * Blind tunnels: for hosts the policy does not govern (and bypassed or pinned ones), the CONNECT's
 * bytes are copied both ways and never decrypted. The upstream is dialled first, so a refused
 * destination is answered 502 instead of a 200 followed by a reset.
 */
import type net from 'node:net';
import type { Duplex } from 'node:stream';
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
 * Opens the tunnel for an accepted CONNECT. `answered`: the CONNECT was already answered 200 (an
 * interception that fell back to a tunnel because no leaf could be issued, fail-open).
 */
export function tunnel(client: net.Socket, head: Buffer, host: string, port: number, dialer: Dialer, answered = false): void {
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
