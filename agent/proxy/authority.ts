/**
 * Parsing a CONNECT authority (`host:port`, `[v6]:port`) and spotting requests that would loop back
 * into the agent. Runs before any TLS work and before the gate classifies.
 */
import net from 'node:net';
import { ProxyError } from './errors.js';

/** A parsed, normalised authority. */
export interface Authority {
  /** Lower case, no trailing dot, no brackets. */
  readonly host: string;
  readonly port: number;
}

// A DNS name (labels of letters, digits, hyphen, underscore as some CDNs use) with an optional trailing dot.
const NAME = /^(?=.{1,253}\.?$)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.?$/;

/** Parses `host:port`; throws `PROXY_BAD_AUTHORITY` (400) on anything else. */
export function parseAuthority(value: string | undefined, defaultPort: number | null = null): Authority {
  const bad = (): ProxyError => new ProxyError('PROXY_BAD_AUTHORITY', `not a host:port: ${JSON.stringify(value?.slice(0, 100))}`, 400);
  if (value === undefined || value.length === 0 || value.length > 300) throw bad();
  let host: string;
  let portText: string | undefined;
  if (value.startsWith('[')) {
    const close = value.indexOf(']');
    if (close === -1) throw bad();
    host = value.slice(1, close);
    const rest = value.slice(close + 1);
    if (rest.length > 0 && !rest.startsWith(':')) throw bad();
    portText = rest.length > 0 ? rest.slice(1) : undefined;
    if (net.isIPv6(host) === false) throw bad();
  } else {
    const colon = value.lastIndexOf(':');
    host = colon === -1 ? value : value.slice(0, colon);
    portText = colon === -1 ? undefined : value.slice(colon + 1);
    host = host.toLowerCase();
    if (host.endsWith('.')) host = host.slice(0, -1);
    if (net.isIPv4(host) === false && !NAME.test(host)) throw bad();
  }
  let port: number;
  if (portText === undefined) {
    if (defaultPort === null) throw bad();
    port = defaultPort;
  } else {
    if (!/^\d{1,5}$/.test(portText)) throw bad();
    port = Number(portText);
  }
  if (port < 1 || port > 65535) throw bad();
  return { host, port };
}

const LOOPBACK_NAMES = new Set(['localhost', '0.0.0.0', '::', '::1']);

/** True when host names this machine (so host:ourPort would be the agent itself). */
export function isLocalHost(host: string): boolean {
  return LOOPBACK_NAMES.has(host) || host.startsWith('127.') || host.endsWith('.localhost');
}

/**
 * An absolute-form proxy request target (`http://host[:port]/path?q`) as its authority and
 * origin-form path; a ProxyError (400) for anything else (https:// belongs to CONNECT).
 */
export function forwardTarget(url: string): [Authority, string] | ProxyError {
  if (!url.startsWith('http://') && !url.startsWith('ws://')) {
    return new ProxyError('PROXY_BAD_AUTHORITY', 'Outpost forwards http:// URLs; use CONNECT for https', 400);
  }
  const start = url.indexOf('//') + 2;
  let slash = url.indexOf('/', start);
  if (slash === -1) slash = url.length;
  const query = url.indexOf('?', start);
  const end = query !== -1 && query < slash ? query : slash;
  try {
    const authority = parseAuthority(url.slice(start, end), 80);
    const rest = url.slice(end);
    return [authority, rest.length === 0 ? '/' : rest.startsWith('?') ? `/${rest}` : rest];
  } catch (err) {
    return err as ProxyError;
  }
}
