/**
 * The gateway's connections to providers in gateway mode: undici over TLS, verified against Node's
 * roots plus `upstream.caFile`, with `upstream.resolve` mapping a host to another `address:port`
 * (corporate routing; tests point real provider names at a local fake) while TLS still names and
 * verifies the real host.
 */
import fs from 'node:fs/promises';
import tls from 'node:tls';
import { Agent, buildConnector, type Dispatcher } from 'undici';
import type { GatewayConfig } from '../../shared/schema/gateway-config.js';

/** Builds the dispatcher for provider requests. */
export async function providerDispatcher(upstream: GatewayConfig['upstream']): Promise<Dispatcher> {
  const ca = upstream.caFile === null ? undefined : [...tls.rootCertificates, await fs.readFile(upstream.caFile, 'utf8')];
  const connector = buildConnector({ ...(ca === undefined ? {} : { ca }) });
  const resolve = upstream.resolve;
  return new Agent({
    connect: (options, callback) => {
      const mapped = Object.hasOwn(resolve, options.hostname) ? resolve[options.hostname] : undefined;
      if (mapped === undefined) return connector(options, callback);
      const at = mapped.lastIndexOf(':');
      return connector({ ...options, hostname: mapped.slice(0, at).replace(/^\[|\]$/g, ''), port: mapped.slice(at + 1), servername: options.hostname }, callback);
    },
  });
}
