/**
 * Reaching an upstream host at the TCP level: `upstream.resolve` (host → address:port) first, then
 * either a direct connection or an HTTP CONNECT through the corporate proxy (`upstream.proxy`,
 * credentials from its URL as Basic auth). Used by the pooled client, tunnels and WebSocket upgrades.
 */
import net from 'node:net';
import { ProxyError } from './errors.js';

/** Where a host really goes. */
export interface DialTarget {
  readonly host: string;
  readonly port: number;
}

/** A parsed corporate proxy. */
interface CorporateProxy {
  readonly host: string;
  readonly port: number;
  /** `Basic …` or null. */
  readonly authorization: string | null;
}

/** Maps a requested host:port to where the bytes go, honouring `upstream.resolve`. */
export class Resolver {
  private readonly map: Map<string, DialTarget>;
  private readonly wildcards: Array<[string, DialTarget]>;

  constructor(resolve: Readonly<Record<string, string>>) {
    this.map = new Map();
    this.wildcards = [];
    for (const [pattern, hostPort] of Object.entries(resolve)) {
      const target = parseHostPort(hostPort);
      if (pattern.startsWith('*.')) this.wildcards.push([pattern.slice(1), target]);
      else this.map.set(pattern, target);
    }
  }

  /** The mapped target, or the host itself. */
  target(host: string, port: number): DialTarget {
    const exact = this.map.get(host);
    if (exact !== undefined) return exact;
    for (const [suffix, target] of this.wildcards) if (host.endsWith(suffix)) return target;
    return { host, port };
  }
}

/** Parses `host:port` or `[v6]:port`. */
export function parseHostPort(value: string): DialTarget {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(value);
  if (m === null) throw new ProxyError('PROXY_BAD_AUTHORITY', `not an address:port: ${value}`, 400);
  return { host: m[1] ?? '', port: Number(m[2]) };
}

function parseProxyUrl(url: string): CorporateProxy {
  const u = new URL(url);
  const authorization =
    u.username === '' ? null : `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)), authorization };
}

/** Opens TCP connections to upstream hosts, directly or through the corporate proxy. */
export class Dialer {
  private readonly proxy: CorporateProxy | null;

  constructor(
    readonly resolver: Resolver,
    proxyUrl: string | null,
  ) {
    this.proxy = proxyUrl === null ? null : parseProxyUrl(proxyUrl);
  }

  /** True when a corporate proxy is configured. */
  get viaProxy(): boolean {
    return this.proxy !== null;
  }

  /** A connected socket to `host:port` (after resolve), ready for TLS or raw bytes. */
  dial(host: string, port: number): Promise<net.Socket> {
    const target = this.resolver.target(host, port);
    if (this.proxy === null) return connectTcp(target.host, target.port);
    return connectThrough(this.proxy, target);
  }
}

function connectTcp(host: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    socket.setNoDelay(true);
    const onError = (err: Error): void => {
      socket.destroy();
      reject(new ProxyError('PROXY_UPSTREAM_CONNECT', `cannot connect to ${host}:${port}: ${(err as NodeJS.ErrnoException).code ?? err.message}`));
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

/** Largest CONNECT reply head we accept from a corporate proxy. */
const MAX_PROXY_REPLY = 16 * 1024;

async function connectThrough(proxy: CorporateProxy, target: DialTarget): Promise<net.Socket> {
  const socket = await connectTcp(proxy.host, proxy.port);
  const authority = target.host.includes(':') ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
  const auth = proxy.authorization === null ? '' : `Proxy-Authorization: ${proxy.authorization}\r\n`;
  socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${auth}\r\n`);
  return new Promise((resolve, reject) => {
    let head = Buffer.alloc(0);
    const fail = (err: Error): void => {
      cleanup();
      socket.destroy();
      reject(err);
    };
    const onError = (err: Error): void => fail(new ProxyError('PROXY_UPSTREAM_CONNECT', `corporate proxy failed: ${err.message}`));
    const onClose = (): void => fail(new ProxyError('PROXY_UPSTREAM_PROXY_REFUSED', 'corporate proxy closed the CONNECT'));
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) {
        if (head.length > MAX_PROXY_REPLY) fail(new ProxyError('PROXY_UPSTREAM_PROXY_REFUSED', 'corporate proxy sent an oversized reply'));
        return;
      }
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(head.subarray(0, end).toString('latin1'));
      if (status === null || status[1] !== '200') {
        fail(new ProxyError('PROXY_UPSTREAM_PROXY_REFUSED', `corporate proxy refused CONNECT ${authority}: ${status?.[1] ?? 'bad reply'}`));
        return;
      }
      cleanup();
      // Paused so that no byte is lost before the caller (TLS or a pipe) starts reading.
      socket.pause();
      const rest = head.subarray(end + 4);
      if (rest.length > 0) socket.unshift(rest);
      resolve(socket);
    };
    const cleanup = (): void => {
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
    };
    socket.on('data', onData);
    socket.once('error', onError);
    socket.once('close', onClose);
  });
}
