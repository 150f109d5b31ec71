/**
 * The central gateway (`outpost gateway`): one HTTP server for the admin API (`/admin/v1/*`, bearer
 * admin token), the agents' enrollment (`/v1/agents/enroll`) and their WebSocket hub
 * (`/v1/agents/connect`). The composition root: it wires the store, the signing key, the publisher,
 * the hub and retention, and owns start and stop.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { createLogger } from '../shared/log.js';
import type { ResolvedGatewayConfig } from './config.js';
import { loadOrCreateAdminToken } from './admin-token.js';
import { loadOrCreateSigningKey } from './signing-key.js';
import { openStore } from './store/open.js';
import type { GatewayStore } from './store/store.js';
import { PolicyPublisher } from './policy/publisher.js';
import { CommandIssuer } from './commands/issuer.js';
import { adminRouter } from './admin-api/index.js';
import { Router } from './http/router.js';
import { enrollRoute } from './agents-api/enroll.js';
import { AgentHub } from './hub/hub.js';
import { authenticate } from './admin-api/caller.js';
import { ConsoleSessions } from './console-auth/sessions.js';
import { isConsolePage, serveConsole } from './console-site.js';
import { consoleAuthRoutes } from './console-auth/routes.js';
import { loginState, oidcRoutes, ssoEnrollUnavailableRoute } from './console-auth/oidc/routes.js';
import { OidcRelyingParty } from './console-auth/oidc/oidc-client.js';
import { SealedCookie } from './console-auth/oidc/sealed-cookie.js';
import { ApiHttpError } from './http/errors.js';
import { sendError } from './http/io.js';
import { startRetention } from './audit/retention.js';
import { GATEWAY_VERSION } from './version.js';
import { DeviceCa } from './ca/device-ca.js';
import { OrgSigner } from './ca/org-signer.js';
import { forwardRequest, type ForwarderDeps } from './forward/forwarder.js';
import { ProviderSecrets } from './forward/provider-secrets.js';
import { providerDispatcher } from './forward/provider-upstream.js';
import { FORWARD_PREFIX } from '../shared/protocol/gateway-forward.js';

/** Test and bench knobs beside the config. */
export interface GatewayOptions {
  readonly logger?: Logger;
  readonly heartbeatMs?: number;
  /** A store opened by the caller (tests sharing one PostgreSQL database between replicas). */
  readonly store?: GatewayStore;
}

/** A running gateway. */
export interface RunningGateway {
  /** `http://host:port`. */
  readonly url: string;
  readonly adminToken: string;
  /** Where the admin token came from (a file path or "the config file"). */
  readonly adminTokenSource: string;
  readonly signingPublicKeyPem: string;
  readonly store: GatewayStore;
  readonly hub: AgentHub;
  /** Lines for the terminal (never the token itself). */
  describe(): string[];
  close(): Promise<void>;
}

/**
 * Whether the console is reached over HTTPS (the gateway behind a TLS-terminating proxy, named by
 * `publicUrl`): only then do its cookies carry `Secure`, which a browser would not send back over
 * plain HTTP (the loopback and test setups).
 */
function consoleIsHttps(config: ResolvedGatewayConfig): boolean {
  return config.publicUrl?.startsWith('https:') ?? false;
}

/** Starts the gateway; resolves once it listens. */
export async function startGateway(config: ResolvedGatewayConfig, options: GatewayOptions = {}): Promise<RunningGateway> {
  const logger = options.logger ?? createLogger(config.log.level);
  const [key, admin] = await Promise.all([loadOrCreateSigningKey(config.home), loadOrCreateAdminToken(config.home, config.adminToken)]);
  const orgSigner = config.fleetCa === null ? null : await OrgSigner.load(config.fleetCa.certFile, config.fleetCa.keyFile);
  const store = options.store ?? (await openStore(config.store, logger));
  const publisher = new PolicyPublisher(store, key);
  const commands = new CommandIssuer(store);
  const admins = adminRouter({ store, publisher, commands, logger });
  const sessions = new ConsoleSessions(store, { ttlMs: config.console.sessionHours * 3_600_000, secure: consoleIsHttps(config) });
  let listenUrl = '';
  const consoleAuth = new Router([
    ...consoleAuthRoutes({ store, sessions, adminToken: admin.token, logger, oidc: config.console.oidc !== null }),
    ...(config.console.oidc === null
      ? [ssoEnrollUnavailableRoute()]
      : oidcRoutes({
          config: config.console.oidc,
          rp: new OidcRelyingParty(config.console.oidc),
          sessions,
          store,
          logger,
          sealed: new SealedCookie(admin.token, 'console oidc login state', loginState),
          baseUrl: () => (config.publicUrl ?? listenUrl).replace(/\/$/, ''),
        })),
  ]);
  const deviceCa = orgSigner === null ? null : new DeviceCa(orgSigner, store);
  const agents = new Router([enrollRoute(store, key, deviceCa)]);
  const hub = new AgentHub({ store, logger, gatewayVersion: GATEWAY_VERSION, deviceCa, ...(options.heartbeatMs === undefined ? {} : { heartbeatMs: options.heartbeatMs }) });
  const stopRetention = startRetention(store, logger);
  // Gateway mode: requests of virtual keys whose provider key this gateway holds.
  const providers = await providerDispatcher(config.upstream);
  const forward: ForwarderDeps = { store, secrets: new ProviderSecrets(config.providerKeys), dispatcher: providers, logger };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://gateway');
    if (url.pathname.startsWith('/admin/')) {
      authenticate(req, admin.token, sessions).then(
        (caller) => admins.dispatch(req, res, url, { caller }),
        (err: unknown) => {
          logger.warn({ path: url.pathname, remote: req.socket.remoteAddress, code: err instanceof ApiHttpError ? err.code : 'internal' }, 'admin API request refused before routing');
          sendError(res, err);
        },
      );
      return;
    }
    if (consoleAuth.handles(url.pathname)) {
      void consoleAuth.dispatch(req, res, url, undefined);
      return;
    }
    if (isConsolePage(url.pathname)) {
      void serveConsole(req, res, url.pathname);
      return;
    }
    if (url.pathname.startsWith(FORWARD_PREFIX)) {
      forwardRequest(forward, req, res, `${url.pathname}${url.search}`).catch((err: unknown) => {
        // A refusal names its reason; a provider that cannot be reached is a 502 (never a secret in either).
        const answer = err instanceof ApiHttpError ? err : new ApiHttpError(502, 'upstream_error', `the gateway could not reach the provider: ${(err as Error).message}`);
        logger.warn({ code: answer.code, status: answer.status, host: url.pathname.slice(FORWARD_PREFIX.length).split('/')[0] }, 'a gateway-mode forward did not complete');
        sendError(res, answer);
      });
      return;
    }
    void agents.dispatch(req, res, url, undefined);
  });
  server.on('upgrade', (req, socket, head) => {
    if (!hub.handleUpgrade(req, socket, head)) socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.listen.port, config.listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  listenUrl = url;
  logger.info({ url, store: store.kind }, 'gateway listening');

  let closing: Promise<void> | null = null;
  return {
    url,
    adminToken: admin.token,
    adminTokenSource: admin.source,
    signingPublicKeyPem: key.publicPem,
    store,
    hub,
    describe: () => [
      `Outpost gateway ${GATEWAY_VERSION} listening on ${url}${config.publicUrl ? ` (agents use ${config.publicUrl})` : ''}`,
      `admin API: ${url}/admin/v1/ (bearer token from ${admin.source})`,
      `agents: enroll at ${config.publicUrl ?? url}/v1/agents/enroll, connect to /v1/agents/connect`,
      `store: ${store.kind}${config.store.kind === 'sqlite' ? ` ${config.store.path}` : ''}`,
      `device CA: ${config.fleetCa === null ? 'standalone (each device makes its own root)' : `fleet, signed by ${config.fleetCa.certFile}`}`,
    ],
    close: () =>
      (closing ??= (async () => {
        stopRetention();
        await hub.close();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await providers.close();
        if (options.store === undefined) await store.close();
      })()),
  };
}
