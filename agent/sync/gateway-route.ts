/**
 * Gateway mode, the agent's side of the transport: where a request whose provider key the gateway
 * holds goes (the gateway's forward route), with the device credential, over the same verified TLS
 * (CA file, key pin) as the sync connection. The gate decides the request first, exactly as for a
 * direct one; only the destination differs.
 */
import { Agent, type Dispatcher } from 'undici';
import { FORWARD_HEADERS, forwardPath } from '../../shared/protocol/gateway-forward.js';
import type { GatewayRoute } from '../pipeline/seam.js';
import { gatewayAddress } from './gateway-address.js';
import type { GatewayTlsOptions } from './gateway-tls.js';

/** The route to the gateway for an enrolled device, and the dispatcher to close at stop. */
export function gatewayRoute(gatewayUrl: string, credential: string, tls: GatewayTlsOptions): { readonly route: GatewayRoute; readonly dispatcher: Dispatcher } {
  const address = gatewayAddress(gatewayUrl);
  const base = new URL(address.url);
  const dispatcher = new Agent(address.secure ? { connect: { secureContext: tls.secureContext, checkServerIdentity: tls.checkServerIdentity } } : {});
  const prefix = base.pathname.replace(/\/+$/, '');
  return {
    dispatcher,
    route: {
      origin: base.origin,
      dispatcher,
      path: (host, path) => `${prefix}${forwardPath(host, path)}`,
      headers: { [FORWARD_HEADERS.deviceCredential]: credential },
    },
  };
}
