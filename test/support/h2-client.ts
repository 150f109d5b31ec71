/**
 * Node's own HTTP/2 client through the agent: a CONNECT to the proxy, TLS on the tunnel offering
 * only `h2`, and one `ClientHttp2Session` on it. `h2Request` sends one request on a session and
 * collects its answer (status, headers, body, trailers).
 */
import http from 'node:http';
import http2 from 'node:http2';
import type net from 'node:net';
import tls from 'node:tls';

/** An HTTP/2 session to `host` through the proxy at `proxyUrl`, trusting `ca`. */
export async function h2Through(proxyUrl: string, host: string, ca: string, options: http2.ClientSessionOptions = {}): Promise<http2.ClientHttp2Session> {
  const socket = await connectTunnel(proxyUrl, `${host}:443`);
  const secured = tls.connect({ socket, servername: host, ca, ALPNProtocols: ['h2'] });
  await new Promise<void>((resolve, reject) => {
    secured.once('secureConnect', resolve);
    secured.once('error', reject);
  });
  if (secured.alpnProtocol !== 'h2') {
    secured.destroy();
    throw new Error(`the proxy chose ${String(secured.alpnProtocol)}, not h2`);
  }
  const session = http2.connect(`https://${host}`, { ...options, createConnection: () => secured });
  session.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    session.once('remoteSettings', () => resolve());
    session.once('error', reject);
  });
  return session;
}

/** A raw CONNECT tunnel through the proxy (answered 200). */
export function connectTunnel(proxyUrl: string, authority: string): Promise<net.Socket> {
  const proxy = new URL(proxyUrl);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: proxy.hostname, port: proxy.port, method: 'CONNECT', path: authority, headers: { host: authority } });
    req.once('connect', (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        reject(new Error(`CONNECT ${authority}: ${res.statusCode}`));
        return;
      }
      resolve(socket);
    });
    req.once('error', reject);
    req.end();
  });
}

/** One answer on an HTTP/2 stream. */
export interface H2Answer {
  readonly status: number;
  readonly headers: http2.IncomingHttpHeaders;
  readonly body: Buffer;
  readonly trailers: http2.IncomingHttpHeaders | null;
  /** Body chunks in arrival order (a stream's events). */
  readonly chunks: readonly Buffer[];
}

/** Sends one request on `session` and waits for the whole answer. */
export function h2Request(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: string | Buffer): Promise<H2Answer> {
  const stream = session.request(headers, { endStream: body === undefined });
  if (body !== undefined) stream.end(body);
  return h2Answer(stream);
}

/** Collects the answer on `stream`. */
export function h2Answer(stream: http2.ClientHttp2Stream): Promise<H2Answer> {
  return new Promise((resolve, reject) => {
    let status = 0;
    let head: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders | null = null;
    const chunks: Buffer[] = [];
    stream.once('response', (h) => {
      head = h;
      status = Number(h[':status']);
    });
    stream.once('trailers', (t) => {
      trailers = t;
    });
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.once('end', () => resolve({ status, headers: head, body: Buffer.concat(chunks), trailers, chunks }));
    stream.once('error', reject);
  });
}
