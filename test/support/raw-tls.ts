/**
 * Raw sockets for attacking a proxy stage by stage: a connected socket whose errors are ignored
 * (the client side is ours to break), the bytes of a real ClientHello, and a TLS client whose
 * transport the caller can still reset (`resetAndDestroy` needs the TCP socket, not the TLS one).
 * Used by the robustness tests and the soak bench.
 */
import net from 'node:net';
import { Duplex } from 'node:stream';
import tls from 'node:tls';

/** A connected socket to `127.0.0.1:port` whose errors are ignored. */
export async function dialRaw(port: number): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await new Promise((resolve) => socket.once('connect', resolve));
  return socket;
}

/** Resolves with the next bytes the peer sends; rejects if the socket closes first. */
export function firstData(socket: net.Socket | tls.TLSSocket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const onClose = (): void => reject(new Error('the connection closed before any byte arrived'));
    socket.once('close', onClose);
    socket.once('data', (data: Buffer) => {
      socket.off('close', onClose);
      resolve(data);
    });
  });
}

/** The bytes of a real ClientHello for `servername` (what a TLS client sends first). */
export function clientHello(servername: string): Promise<Buffer> {
  return new Promise((resolve) => {
    const sink = new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        resolve(chunk);
        callback();
        setImmediate(() => client.destroy());
      },
    });
    const client = tls.connect({ socket: sink, servername });
    client.on('error', () => {});
  });
}

/**
 * A TLS client to `servername` over `raw` (already past any CONNECT), its bytes passing through a
 * duplex so that `raw` stays the caller's to reset at any moment. Errors are ignored.
 */
export function tlsOver(raw: net.Socket, servername: string, ca: string | tls.SecureContext): tls.TLSSocket {
  const pipe = new Duplex({
    read() {
      raw.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      if (raw.destroyed) callback();
      else raw.write(chunk, () => callback());
    },
  });
  raw.on('data', (d: Buffer) => pipe.push(d));
  raw.on('close', () => pipe.destroy());
  const socket = tls.connect({ socket: pipe, servername, ...(typeof ca === 'string' ? { ca } : { secureContext: ca }) });
  socket.on('error', () => {});
  return socket;
}
