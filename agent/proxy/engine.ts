/**
 * The interception engine: loopback listeners, CONNECT handling (classify → intercept, tunnel or
 * block), plain-HTTP forwarding, the PAC file, and lifecycle. One front HTTP server parses proxy
 * requests; one inner HTTP server serves every intercepted TLS connection, whatever its host.
 *
 * The composition root builds it with {@link startProxy} from the resolved config, the Gate and the
 * CertificateSource, and stops it with {@link ProxyEngine.close}.
 */
import http from 'node:http';
import type net from 'node:net';
import type { CertificateSource } from '../ca/certificate-source.js';
import type { ResolvedAgentConfig } from '../config/load.js';
import { decompressionBounds, UPSTREAM_HTTP2_DEFAULT } from '../../shared/schema/config.js';
import type { ConnectEvent, Gate, HostAction } from '../pipeline/seam.js';
import { forwardTarget, isLocalHost, parseAuthority, type Authority } from './authority.js';
import { ProxyError } from './errors.js';
import { runExchange } from './exchange.js';
import type { ProcessOwners } from '../system/process-owner/process-owners.js';
import type { ExchangeContext, ExchangeRequest, ExchangeResponse, ExchangeTarget } from './exchange-types.js';
import { createH2Server } from './h2-server.js';
import { DEFAULT_HANDSHAKES_PER_TURN, HandshakePacer } from './handshake-pacer.js';
import type { InnerServers } from './intercept.js';
import { TARGET, type InterceptedSocket } from './intercepted-socket.js';
import { listen, onClientError, onHalfClose, plainAnswer } from './listeners.js';
import { buildPac, type PacHosts } from './pac.js';
import { AiAddressBook } from './ai-addresses.js';
import { BypassLog } from './bypass-log.js';
import { judgeNames, otherHost } from './names.js';
import { PinningTracker, type PinnedClient, type PinningOptions } from './pinning.js';
import { ConnectionRouter } from './router.js';
import { acceptTransparent } from './transparent.js';
import { Dialer, Resolver } from './upstream-dial.js';
import { loadUpstreamTrust } from './upstream-trust.js';
import { Upstream } from './upstream.js';
import { passUpgrade } from './websocket.js';
import { bridgeWebSocket, refuseUpgrade, upgradeRequest } from './websocket-bridge.js';

/** Timeouts that bound what a misbehaving client can hold (slowloris, idle sockets). */
export interface ProxyTimeouts {
  /** Time to receive a request head, from the connection or the previous response (ms). */
  readonly headersMs: number;
  /** Time to receive a whole request, body included (ms). */
  readonly requestMs: number;
  /** Idle time between requests on a kept-alive client connection (ms). */
  readonly keepAliveMs: number;
  /** How often Node checks the two above (ms). */
  readonly checkIntervalMs: number;
}

const DEFAULT_TIMEOUTS: ProxyTimeouts = { headersMs: 30_000, requestMs: 300_000, keepAliveMs: 60_000, checkIntervalMs: 5_000 };

/** How the engine is built. */
export interface ProxyOptions {
  /**
   * `proxy` (listen address, port, body bound), `upstream` (resolve, caFile, corporate proxy) and,
   * when present and enabled, `transparent` (the SNI front door's port).
   */
  readonly config: {
    /** `decompression` defaults to the config schema's bounds; `http2` to true. */
    readonly proxy: Omit<ResolvedAgentConfig['proxy'], 'decompression' | 'http2'> & Partial<Pick<ResolvedAgentConfig['proxy'], 'decompression' | 'http2'>>;
    /** `http2` defaults to the config schema's default. */
    readonly upstream: Omit<ResolvedAgentConfig['upstream'], 'http2'> & Partial<Pick<ResolvedAgentConfig['upstream'], 'http2'>>;
  } &
    Partial<Pick<ResolvedAgentConfig, 'transparent'>>;
  readonly gate: Gate;
  /**
   * True while interception is paused (the user, where policy allows, or a kill switch): hosts the
   * gate would intercept are tunnelled untouched; blocked hosts stay blocked. New connections follow
   * it at once; a connection already intercepted stays governed until it closes.
   */
  readonly paused?: () => boolean;
  readonly certificates: CertificateSource;
  /** The policy's interception lists for the PAC; a getter because policy changes at runtime. */
  readonly pacHosts: () => PacHosts;
  /** The PAC's route for non-AI hosts; default `PROXY <upstream.proxy>` when one is set, else `DIRECT`. */
  readonly pacFallback?: string;
  /**
   * Costly steps of new intercepted connections (asking for the host's leaf, creating the TLS
   * socket, the server's handshake) run at most this many per turn of the event loop; more wait for
   * later turns, so a burst of new connections cannot hold up requests on open ones
   * (handshake-pacer.ts). Default `DEFAULT_HANDSHAKES_PER_TURN` (4); null turns pacing off. With the
   * leaf request paced too, a 50-host burst's longest engine turn fell from ~3–7 ms to ~1–2 ms
   * (npm run bench, CA through the engine); a lone handshake is never delayed.
   */
  readonly handshakesPerTurn?: number | null;
  /** When a client counts as pinned, and for how long (default: 3 aborts within 10 minutes, pinned for 1 hour). */
  readonly pinning?: PinningOptions;
  readonly timeouts?: Partial<ProxyTimeouts>;
  /**
   * Offer HTTP/2 in ALPN on intercepted connections beside HTTP/1.1 (default: `config.proxy.http2`,
   * else true): an h2 client (gRPC, browsers, curl) gets h2 and every stream runs the same exchange
   * (h2-server.ts).
   */
  readonly http2?: boolean;
  /** Also listen on ::1 when the host is 127.0.0.1 or localhost (default true). */
  readonly ipv6?: boolean;
  /** Where unexpected internal errors go (default: ignored; the agent passes its logger). */
  readonly onError?: (error: Error, where: string) => void;
  /** Which process opened each intercepted connection (Linux `/proc`), for the record; default none. */
  readonly processOwners?: ProcessOwners | null;
}

/** Counters for status and metrics. */
export interface ProxyStats {
  /** Client connections open now (front door; intercepted ones are counted inside them). */
  readonly connections: number;
  readonly intercepted: number;
  readonly tunnelled: number;
  readonly blocked: number;
  /** Requests seen on intercepted connections and plain-HTTP forwarding. */
  readonly requests: number;
  /** Requests that ended in an upstream or client failure. */
  readonly failed: number;
  /** Times an upstream response was paused for a client that fell a window behind (flow control). */
  readonly paused: number;
  /** Intercepted connections that chose HTTP/2, since start. */
  readonly http2Sessions: number;
  /** Hosts some client of which counts as pinned now (that client alone is tunnelled or refused). */
  readonly pinnedHosts: readonly string[];
  /** The pins in force: host, client, since, until. */
  readonly pinnedClients: readonly PinnedClient[];
  /** Bypass attempts stopped or let through since start (issue 20.4). */
  readonly bypass: ReturnType<BypassLog['summary']>;
  /** Connections accepted by each front door since start. */
  readonly doors: { readonly proxy: number; readonly transparent: number };
}

/** A running engine. */
export interface ProxyEngine {
  /** Where it listens (the IPv4 loopback address when both are used). */
  readonly address: { readonly host: string; readonly port: number };
  /** `http://127.0.0.1:PORT`, for HTTPS_PROXY. */
  readonly url: string;
  /** The transparent front door's port, or null when `transparent.enabled` is false. */
  readonly transparentPort: number | null;
  stats(): ProxyStats;
  /** Stops listening, drops every connection and closes the upstream pool. */
  close(): Promise<void>;
}


/** How often the transparent door re-resolves the policy's AI hosts (ms). */
const AI_ADDRESS_REFRESH_MS = 5 * 60_000;

/** Starts the engine; resolves once it listens. */
export async function startProxy(options: ProxyOptions): Promise<ProxyEngine> {
  const { gate, certificates, config } = options;
  const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  const onError = options.onError ?? ((): void => {});
  const trust = await loadUpstreamTrust(config.upstream.caFile);
  const dialer = new Dialer(new Resolver(config.upstream.resolve), config.upstream.proxy);
  const upstream = new Upstream({ trust, dialer, http2: config.upstream.http2 ?? UPSTREAM_HTTP2_DEFAULT });
  const pinning = new PinningTracker(options.pinning);
  const bypass = new BypassLog();
  const perTurn = options.handshakesPerTurn === undefined ? DEFAULT_HANDSHAKES_PER_TURN : options.handshakesPerTurn;
  const pacer = perTurn === null ? null : new HandshakePacer(perTurn);
  const counters = { requests: 0, failed: 0, paused: 0, intercepted: 0, tunnelled: 0, blocked: 0, http2Sessions: 0 };
  const ctx: ExchangeContext = { gate, upstream, maxBodyBytes: config.proxy.maxBodyBytes, decompression: config.proxy.decompression ?? decompressionBounds.parse({}), counters, onError };
  /** The gate's classification; a gate that throws must not take the agent down (fail mode decides). */
  const classify = (host: string): HostAction => {
    try {
      const action = gate.classify(host);
      return action === 'intercept' && options.paused?.() === true ? 'tunnel' : action;
    } catch (err) {
      onError(err as Error, `classify ${host}`);
      return gate.failMode === 'open' ? 'tunnel' : 'block';
    }
  };
  const record = (event: ConnectEvent): void => {
    try {
      gate.connect(event);
    } catch (err) {
      onError(err as Error, 'recording a CONNECT event');
    }
  };
  const sockets = new Set<net.Socket>();
  const doors = { proxy: 0, transparent: 0 };
  let port = 0;
  const pacFallback = options.pacFallback ?? (config.upstream.proxy === null ? 'DIRECT' : `PROXY ${new URL(config.upstream.proxy).host}`);

  const serverOptions: http.ServerOptions = {
    headersTimeout: timeouts.headersMs,
    requestTimeout: timeouts.requestMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    connectionsCheckingInterval: timeouts.checkIntervalMs,
    noDelay: true,
  };
  const front = http.createServer(serverOptions);
  const inner = http.createServer(serverOptions);

  const isLoop = (a: Authority): boolean => {
    if (a.port === port && isLocalHost(a.host)) return true;
    const t = dialer.resolver.target(a.host, a.port);
    return t.port === port && isLocalHost(t.host);
  };

  // The transparent door tunnels to original destinations: it must know the governed hosts' addresses
  // (ai-addresses.ts). Re-resolved every few minutes; DNS answers move.
  const aiAddresses = config.transparent?.enabled === true ? new AiAddressBook() : null;
  const seedAddresses = (): void => {
    aiAddresses?.seed(options.pacHosts().hosts, dialer.resolver).catch((err: unknown) => onError(err as Error, 'resolving the AI hosts'));
  };
  seedAddresses();
  const seedTimer = aiAddresses === null ? null : setInterval(seedAddresses, AI_ADDRESS_REFRESH_MS);
  seedTimer?.unref();
  const h2 =
    (options.http2 ?? config.proxy.http2) === false
      ? null
      : createH2Server(
          { requestMs: timeouts.requestMs, keepAliveMs: timeouts.keepAliveMs },
          (req, res, connection) => {
            const target = hostAgrees(req, res, connection, 'intercept');
            if (target !== null) runExchange(ctx, req, res, target, req.url);
          },
          onError,
        );
  h2?.on('session', () => {
    counters.http2Sessions++;
  });
  const servers: InnerServers = { http1: inner, http2: h2, handshakeMs: timeouts.headersMs };
  const router = new ConnectionRouter({ gate, classify, record, certificates, inner: servers, pacer, dialer, pinning, bypass, counters, aiAddresses, onError, owners: options.processOwners ?? null });

  /**
   * A Host header that names another host than the connection's (issue 20.2): inside intercepted
   * TLS (`action` intercept), or on plain-HTTP forwarding (`action` the URL host's). The policy's
   * `nameMismatch` decides (by default the stricter name), audited with both names; two harmless
   * names pass. Returns the target to send the request to, or null when it was refused here.
   * Hot path: one string comparison when the Host names the connection's host.
   */
  const hostAgrees = (req: ExchangeRequest, res: ExchangeResponse, target: ExchangeTarget, action: HostAction): ExchangeTarget | null => {
    const other = otherHost(req.headers.host, target.host);
    if (other === null) return target;
    const named = { host: other, action: classify(other) };
    if (action === 'tunnel' && named.action === 'tunnel') return target;
    const verdict = judgeNames({ host: target.host, action }, named, gate.bypassPolicy.nameMismatch);
    const app = req.headers['user-agent'] ?? null;
    const detail = `${target.secure ? `TLS for ${target.host}` : `a request for http://${target.host}`} carried Host: ${other}`;
    const refused = verdict.action === 'block';
    const attempt = { kind: 'host-mismatch', action: refused ? 'blocked' : verdict.action === 'intercept' ? 'intercepted' : 'tunnelled' } as const;
    const reason = refused ? `${detail}: refused (policy nameMismatch: ${gate.bypassPolicy.nameMismatch})` : `${detail}: ${verdict.action === 'intercept' ? 'governed' : 'passed'} as ${verdict.host}`;
    bypass.note(attempt, verdict.host, reason, app);
    record({ host: verdict.host, port: target.port, outcome: 'bypass', app, reason, attempt, door: target.door ?? 'proxy' });
    if (!refused) return verdict.host === target.host ? target : { ...target, host: verdict.host, govern: verdict.action === 'intercept' };
    counters.blocked++;
    res.writeHead(403, { 'content-type': 'text/plain', connection: 'close' });
    res.end(`Outpost: ${reason}.\n`);
    return null;
  };

  // CONNECT: classify before any TLS work.
  front.on('connect', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    let authority: Authority;
    try {
      authority = parseAuthority(req.url);
    } catch (err) {
      socket.end(plainAnswer(400, 'Bad Request', (err as Error).message));
      return;
    }
    if (isLoop(authority)) {
      socket.end(plainAnswer(508, 'Loop Detected', 'Outpost will not CONNECT to itself'));
      return;
    }
    router.connect(socket, head, authority, req.headers['user-agent'] ?? null);
  });

  // Plain-HTTP forward proxying, and the PAC file when the agent itself is asked.
  front.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = req.url ?? '/';
    if (url.startsWith('/')) {
      if (req.method === 'GET' && (url === '/proxy.pac' || url.startsWith('/proxy.pac?'))) {
        const pac = buildPac(options.pacHosts(), port, gate.failMode, pacFallback);
        res.writeHead(200, { 'content-type': 'application/x-ns-proxy-autoconfig', 'cache-control': 'no-cache' });
        res.end(pac);
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('Outpost: this is a proxy; the PAC file is at /proxy.pac\n');
      }
      return;
    }
    const forward = forwardTarget(url);
    if (forward instanceof ProxyError) {
      res.writeHead(forward.status, { 'content-type': 'text/plain', connection: 'close' });
      res.end(`${forward.message}\n`);
      return;
    }
    const [authority, path] = forward;
    if (isLoop(authority)) {
      res.writeHead(508, { 'content-type': 'text/plain', connection: 'close' });
      res.end('Outpost will not forward to itself\n');
      return;
    }
    const action = classify(authority.host);
    if (action === 'block') {
      counters.blocked++;
      const reason = `${authority.host} is not an approved AI service in your organisation's policy`;
      record({ host: authority.host, port: authority.port, outcome: 'blocked', app: req.headers['user-agent'] ?? null, reason });
      res.writeHead(403, { 'content-type': 'text/plain' });
      res.end(`Outpost: ${reason}.\n`);
      return;
    }
    const target = hostAgrees(req, res, { host: authority.host, port: authority.port, secure: false, govern: action === 'intercept' }, action);
    if (target !== null) runExchange(ctx, req, res, target, path);
  });

  front.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    const forward = forwardTarget(req.url ?? '');
    if (forward instanceof ProxyError || isLoop(forward[0]) || classify(forward[0].host) === 'block') {
      socket.end(plainAnswer(400, 'Bad Request', 'Outpost cannot forward this upgrade'));
      return;
    }
    const [authority, path] = forward;
    passUpgrade(req, socket, head, { host: authority.host, port: authority.port, secure: false, govern: false }, path, dialer, trust);
  });

  // HOT PATH: every intercepted request enters here.
  inner.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const connection = (req.socket as InterceptedSocket)[TARGET];
    if (connection === undefined) {
      res.destroy();
      return;
    }
    const target = hostAgrees(req, res, connection, 'intercept');
    if (target !== null) runExchange(ctx, req, res, target, req.url ?? '/');
  });

  inner.on('upgrade', (req: http.IncomingMessage, socket: InterceptedSocket, head: Buffer) => {
    const target = socket[TARGET];
    if (target === undefined) {
      socket.destroy();
      return;
    }
    const path = req.url ?? '/';
    let governed: ReturnType<NonNullable<Gate['websocket']>>;
    try {
      governed = gate.websocket?.(upgradeRequest(req, target, path)) ?? null;
    } catch (err) {
      options.onError?.(err as Error, 'gate websocket');
      refuseUpgrade(socket, { kind: 'respond', status: 502, headers: { 'content-type': 'text/plain' }, body: 'Outpost could not check this WebSocket session.' });
      return;
    }
    if (governed === null) passUpgrade(req, socket, head, target, path, dialer, trust);
    else if ('kind' in governed) refuseUpgrade(socket, governed);
    else bridgeWebSocket(req, socket, head, target, path, dialer, trust, governed);
  });

  for (const server of [front, inner]) {
    server.on('clientError', onClientError);
    // HTTP/1.1 pipelining from a client that half-closes after writing its requests (`openssl
    // s_client`, `ncat` at the end of their input): Node's default aborts every request still in
    // flight at the client's FIN and closes, losing answers whose requests already went upstream.
    // Half-open, each request is answered in order and the connection closes after the last; a FIN
    // in the middle of a response is still a client that went away (onHalfClose).
    // (`httpAllowHalfOpen` is the public, untyped property Node's HTTP server reads at 'end'.)
    (server as http.Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
    server.on('connection', onHalfClose);
    // These servers never listen themselves (sockets arrive by 'connection'), but Node starts the
    // headers/request timeout checker on 'listening'; without it slowloris would hold sockets.
    server.emit('listening');
  }

  /** Every accepted socket is tracked until it closes (close() ends them). */
  const track = (socket: net.Socket): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  const listeners: net.Server[] = [];
  const host = config.proxy.host === 'localhost' ? '127.0.0.1' : config.proxy.host;
  /**
   * Listens on `host` and, for 127.0.0.1, on ::1 at the same port. ::1 is a convenience: a machine
   * without IPv6 loopback, or with the port taken there, still runs. Returns the port.
   */
  const open = async (accept: (socket: net.Socket) => void, wanted: number, door: string): Promise<number> => {
    const first = await listen(accept, host, wanted);
    listeners.push(first);
    const bound = (first.address() as net.AddressInfo).port;
    if (host === '127.0.0.1' && options.ipv6 !== false) {
      const second = await listen(accept, '::1', bound).catch((err: Error) => {
        onError(err, `listening on ::1${door}`);
        return null;
      });
      if (second !== null) listeners.push(second);
    }
    return bound;
  };
  port = await open(
    (socket) => {
      track(socket);
      doors.proxy++;
      front.emit('connection', socket);
    },
    config.proxy.port,
    '',
  );

  const transparent = config.transparent;
  let transparentPort: number | null = null;
  if (transparent?.enabled === true) {
    transparentPort = await open(
      (socket) => {
        track(socket);
        doors.transparent++;
        acceptTransparent(
          socket,
          (s, bytes, arrival, original) => router.transparent(s, bytes, arrival, original),
          (reason) => onError(new ProxyError('PROXY_BAD_AUTHORITY', `transparent connection not routable: ${reason}`, 400), 'transparent'),
        );
      },
      transparent.port,
      ' (transparent)',
    );
  }

  let closed: Promise<void> | null = null;
  return {
    address: { host, port },
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    transparentPort,
    stats: () => ({
      connections: sockets.size,
      doors: { ...doors },
      intercepted: counters.intercepted,
      tunnelled: counters.tunnelled,
      blocked: counters.blocked,
      requests: counters.requests,
      failed: counters.failed,
      paused: counters.paused,
      http2Sessions: counters.http2Sessions,
      pinnedHosts: [...new Set(pinning.list().map((p) => p.host))],
      pinnedClients: pinning.list(),
      bypass: bypass.summary(),
    }),
    close() {
      closed ??= (async () => {
        if (seedTimer !== null) clearInterval(seedTimer);
        aiAddresses?.close();
        const stopped = Promise.all(listeners.map((l) => new Promise<void>((resolve) => l.close(() => resolve()))));
        for (const s of sockets) s.destroy();
        h2?.close(() => {});
        for (const server of [front, inner]) {
          server.closeAllConnections();
          // Clears the timeout checker; the error (never listened) is expected.
          server.close(() => {});
        }
        await Promise.all([stopped, upstream.close()]);
      })();
      return closed;
    },
  };
}
