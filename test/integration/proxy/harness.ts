/**
 * Shared set-up for the engine's integration tests: a test CA, a fake provider whose certificate
 * that CA issued, a CertificateSource issuing leaves from the same CA, and an engine with the
 * allow-all gate pointed at the fake through `upstream.resolve`.
 */
import type { Socket } from 'node:net';
import tls from 'node:tls';
import type { CertificateSource } from '../../../agent/ca/certificate-source.js';
import { createAllowAllGate } from '../../support/allow-all-gate.js';
import type { BypassPolicy, ConnectEvent, Gate } from '../../../agent/pipeline/seam.js';
import { startProxy, type ProxyEngine, type ProxyOptions } from '../../../agent/proxy/engine.js';
import type { DecompressionBounds } from '../../../shared/schema/config.js';
import { startFakeProvider, type FakeProvider } from '../../support/fake-provider.js';
import { createTestCa, type TestCa } from '../../support/test-ca.js';

/**
 * A CertificateSource from the test CA; `async` makes every leaf take the promise path, `fail` makes
 * every issuance fail after the fact, `refuse` makes the source say up front that it cannot issue.
 */
export function testCertificates(ca: TestCa, options: { async?: boolean; fail?: boolean; refuse?: boolean } = {}): CertificateSource & { issued: string[] } {
  const cache = new Map<string, tls.SecureContext>();
  const issued: string[] = [];
  const make = (host: string): tls.SecureContext => {
    let ctx = cache.get(host);
    if (ctx === undefined) {
      const leaf = ca.issue([host]);
      ctx = tls.createSecureContext({ cert: `${leaf.cert}${ca.caPem}`, key: leaf.key });
      cache.set(host, ctx);
      issued.push(host);
    }
    return ctx;
  };
  return {
    issued,
    cannotIssue: (host) => (options.refuse === true ? new Error(`the CA's name constraints do not cover "${host}"`) : null),
    secureContext(host) {
      if (options.fail === true) return Promise.reject(new Error('no leaf for you'));
      return options.async === true ? Promise.resolve().then(() => make(host)) : make(host);
    },
    async prewarm(hosts) {
      for (const h of hosts) make(h);
    },
  };
}

/** Everything a proxy test needs. */
export interface ProxyWorld {
  readonly ca: TestCa;
  readonly provider: FakeProvider;
  readonly engine: ProxyEngine;
  readonly gate: Gate;
  readonly events: ConnectEvent[];
  close(): Promise<void>;
}

/** Options layered over the defaults. */
export interface WorldOptions {
  readonly hosts?: string[];
  readonly blockedHosts?: string[];
  readonly bypassHosts?: string[];
  readonly failMode?: 'open' | 'closed';
  /** Pinned clients, names that disagree, IP literals without SNI (default: the schema's defaults). */
  readonly bypassPolicy?: Partial<BypassPolicy>;
  readonly gate?: (base: Gate) => Gate;
  readonly certificates?: (ca: TestCa) => CertificateSource;
  readonly engine?: Partial<Omit<ProxyOptions, 'config'>>;
  readonly maxBodyBytes?: number;
  /** The engine's bounds on decoding compressed responses (default: the config schema's). */
  readonly decompression?: DecompressionBounds;
  readonly resolve?: Record<string, string>;
  /** More names `upstream.resolve` sends to the fake provider (a CDN serving many names). */
  readonly providerAliases?: string[];
  readonly upstreamProxy?: string | null;
  /** Default: the test CA's file. */
  readonly upstreamCaFile?: string | null;
  /** Open the transparent (SNI) front door on a free port. */
  readonly transparent?: boolean;
  /** The fake provider offers HTTP/2 beside HTTP/1.1 (default false). */
  readonly providerHttp2?: boolean;
  /** The engine offers HTTP/2 to upstream (default: the config schema's default). */
  readonly upstreamHttp2?: boolean;
}

/** Starts CA, fake provider and engine. */
export async function startWorld(options: WorldOptions = {}): Promise<ProxyWorld> {
  const ca = await createTestCa();
  const provider = await startFakeProvider({ ca, http2: options.providerHttp2 === true });
  const events: ConnectEvent[] = [];
  const interception = {
    hosts: options.hosts ?? ['api.openai.com', 'api.mistral.ai', '*.openai.azure.com'],
    blockedHosts: options.blockedHosts ?? ['api.deepseek.com'],
    bypassHosts: options.bypassHosts ?? [],
  };
  const base = createAllowAllGate({ interception, failMode: options.failMode ?? 'open', ...(options.bypassPolicy ? { bypassPolicy: options.bypassPolicy } : {}), onConnect: (e) => events.push(e) });
  const gate = options.gate ? options.gate(base) : base;
  const engine = await startProxy({
    config: {
      proxy: { host: '127.0.0.1', port: 0, maxBodyBytes: options.maxBodyBytes ?? 32 * 1024 * 1024, ...(options.decompression ? { decompression: options.decompression } : {}) },
      ...(options.transparent === true ? { transparent: { enabled: true, port: 0 } } : {}),
      upstream: { resolve: { ...provider.resolveMap(), ...Object.fromEntries((options.providerAliases ?? []).map((h) => [h, provider.address])), ...options.resolve }, caFile: options.upstreamCaFile === undefined ? ca.caFile : options.upstreamCaFile, proxy: options.upstreamProxy ?? null, ...(options.upstreamHttp2 === undefined ? {} : { http2: options.upstreamHttp2 }) },
    },
    gate,
    certificates: options.certificates ? options.certificates(ca) : testCertificates(ca),
    pacHosts: () => interception,
    ...options.engine,
  });
  return {
    ca,
    provider,
    engine,
    gate,
    events,
    async close() {
      await engine.close();
      await provider.close();
      await ca.dispose();
    },
  };
}

/** The proxy's reply to a raw CONNECT (or any request head), and the socket for what follows. */
export interface RawReply {
  readonly status: number;
  readonly head: string;
  /** Bytes after the head (a short body, for error answers that close). */
  readonly rest: Buffer;
  readonly socket: Socket;
}

/** Writes `text` to the engine and reads one response head. */
export async function rawExchange(engine: ProxyEngine, text: string | Buffer): Promise<RawReply> {
  const net = await import('node:net');
  const socket = net.connect(engine.address.port, '127.0.0.1');
  socket.write(text);
  return readHead(socket);
}

/** Reads one HTTP response head from `socket`. */
export function readHead(socket: Socket): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.off('data', onData);
      socket.off('error', reject);
      socket.pause();
      const head = buf.subarray(0, end).toString('latin1');
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), head, rest: buf.subarray(end + 4), socket });
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.once('close', () => reject(new Error(`closed before a response head (got ${JSON.stringify(buf.toString('latin1'))})`)));
  });
}

/** CONNECTs to `authority` and, when answered 200, opens TLS to `servername` over the tunnel. */
export async function connectTls(engine: ProxyEngine, authority: string, ca: string | string[]): Promise<tls.TLSSocket> {
  const reply = await rawExchange(engine, `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
  if (reply.status !== 200) throw new Error(`CONNECT answered ${reply.status}`);
  const servername = authority.replace(/:\d+$/, '');
  const socket = tls.connect({ socket: reply.socket, servername, ca });
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', resolve);
    socket.once('error', reject);
  });
  return socket;
}

/** Resolves once `predicate` holds, checking on each turn of the event loop (no fixed sleeps). */
export async function until(predicate: () => boolean, what: string, limitMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > limitMs) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
