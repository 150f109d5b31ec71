/**
 * When the names of one connection disagree: the CONNECT host and the TLS server name (domain
 * fronting, an IP literal), or the server name and the HTTP Host header. The host a client really
 * talks to decides, however the client addresses it (issue 20). Pure.
 */
import type { BypassPolicy, HostAction } from '../pipeline/seam.js';

/** A name and what the policy does with it. */
export interface NamedAction {
  readonly host: string;
  readonly action: HostAction;
}

/** Block is stricter than intercept, intercept than tunnel. */
const STRICTNESS: Readonly<Record<HostAction, number>> = { tunnel: 0, intercept: 1, block: 2 };

/**
 * The verdict for a connection that carries two names: `outer` (the CONNECT host, or for a Host
 * header the server name already intercepted) and `inner` (the name inside: the server name, or
 * the Host header). `stricter` keeps the stricter of the two, the inner one on a tie (the name the
 * client's TLS verifies, or the HTTP request is addressed to); `block` refuses the connection when
 * either name is governed, and lets two ungoverned names through as a tunnel.
 */
export function judgeNames(outer: NamedAction, inner: NamedAction, mode: BypassPolicy['nameMismatch']): NamedAction {
  if (mode === 'block' && (outer.action !== 'tunnel' || inner.action !== 'tunnel')) {
    return { host: inner.action === 'tunnel' ? outer.host : inner.host, action: 'block' };
  }
  return STRICTNESS[inner.action] >= STRICTNESS[outer.action] ? inner : outer;
}

/**
 * The host of a `Host` header as the policy compares it (lower case, no port, no trailing dot), or
 * null when there is none or it names `host` already. The common case (exactly `host`) costs one
 * comparison.
 */
export function otherHost(header: string | undefined, host: string): string | null {
  if (header === undefined || header === host) return null;
  let name = header.toLowerCase();
  if (name.startsWith('[')) name = name.slice(0, name.indexOf(']') + 1);
  else {
    const colon = name.lastIndexOf(':');
    if (colon !== -1) name = name.slice(0, colon);
  }
  if (name.endsWith('.')) name = name.slice(0, -1);
  return name === '' || name === host ? null : name;
}
