/**
 * Hop-by-hop header handling (RFC 9110 §7.6.1): `Connection` and every field it names, plus the
 * fields that only make sense on one connection, are removed before a message is forwarded.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

// RFC 9110 §7.6.1 names Connection, Proxy-Connection, Keep-Alive, TE, Transfer-Encoding, Upgrade;
// Proxy-Authorization/-Authenticate belong to the proxy hop (RFC 9110 §11.7). Trailer is kept off
// because we forward bodies whole or re-chunk them ourselves.
const HOP = new Set([
  'connection',
  'proxy-connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-authorization',
  'proxy-authenticate',
]);

/** True when `name` (lower case) must not cross the proxy. */
export function isHopByHop(name: string): boolean {
  return HOP.has(name);
}

function connectionTokens(value: string | string[] | number | undefined): string[] | null {
  if (value === undefined || typeof value === 'number') return null;
  const text = Array.isArray(value) ? value.join(',') : value;
  // `close` and `keep-alive` are the common values and are already hop-by-hop: skip the split.
  if (text === 'keep-alive' || text === 'close' || text === '') return null;
  return text.split(',').map((t) => t.trim().toLowerCase());
}

/**
 * Request headers to send upstream: hop-by-hop fields dropped, plus `expect` (the body is already
 * read) and `content-length` (the upstream client sets it from the body the gate chose).
 * Hot path: copies only the fields that stay.
 */
export function upstreamRequestHeaders(headers: OutgoingHttpHeaders | IncomingHttpHeaders, identity: boolean): Record<string, string | string[]> {
  const named = connectionTokens(headers.connection);
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    if (HOP.has(name) || name === 'expect' || name === 'content-length') continue;
    if (named !== null && named.includes(name)) continue;
    const value = headers[name];
    if (value === undefined) continue;
    out[name] = typeof value === 'number' ? String(value) : value;
  }
  // `TE: trailers` says the client reads trailers; gRPC servers may require it, and it is the one
  // TE value HTTP/2 allows (RFC 9113 §8.2.2). The proxy passes trailers on, so it stays.
  if (headers.te === 'trailers') out.te = 'trailers';
  if (identity) out['accept-encoding'] = 'identity';
  return out;
}

/**
 * Response headers to send the client: hop-by-hop fields dropped (Node frames the body itself),
 * `x-outpost-decision` added (null: ungoverned traffic, left unmarked), `content-length` dropped
 * when the tap may change the body.
 */
export function clientResponseHeaders(headers: IncomingHttpHeaders, decision: string | null, dropLength: boolean): Record<string, string | string[]> {
  const named = connectionTokens(headers.connection);
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    if (HOP.has(name)) continue;
    if (dropLength && name === 'content-length') continue;
    if (named !== null && named.includes(name)) continue;
    const value = headers[name];
    if (value !== undefined) out[name] = value;
  }
  if (decision !== null) out['x-outpost-decision'] = decision;
  return out;
}
