/**
 * The gateway's address as the agent uses it: an `https://` URL, or `http://` on loopback only (a
 * gateway on the same machine, tests). Anything else is refused before a byte leaves the machine,
 * because enrollment sends a token and every later connection a device credential.
 */
import { SyncError } from './errors.js';
import { isLoopbackHostname } from '../../shared/protocol/loopback.js';

/** A checked gateway base URL (no trailing slash) and its WebSocket twin. */
export interface GatewayAddress {
  /** `https://gateway.example.com` (or `http://127.0.0.1:8790`), without a trailing slash. */
  readonly url: string;
  readonly secure: boolean;
  /** The agent endpoint as a WebSocket URL. */
  readonly connectUrl: string;
  readonly enrollUrl: string;
}

/** Parses and checks a gateway URL; throws `SYNC_GATEWAY_URL` naming what is wrong. */
export function gatewayAddress(raw: string): GatewayAddress {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new SyncError('SYNC_GATEWAY_URL', `"${raw}" is not a URL: expected https://gateway.example.com`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new SyncError('SYNC_GATEWAY_URL', `the gateway URL must start with https:// (got ${u.protocol}//)`);
  if (u.protocol === 'http:' && !isLoopbackHostname(u.hostname)) {
    throw new SyncError('SYNC_GATEWAY_URL', `refusing plain http:// to ${u.hostname}: the token and device credential would cross the network unencrypted; use https://`);
  }
  if (u.username !== '' || u.password !== '') throw new SyncError('SYNC_GATEWAY_URL', 'the gateway URL must not carry a user name or password');
  if (u.search !== '' || u.hash !== '') throw new SyncError('SYNC_GATEWAY_URL', 'the gateway URL must not carry a query or fragment');
  const base = `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
  return {
    url: base,
    secure: u.protocol === 'https:',
    connectUrl: `${base.replace(/^http/, 'ws')}/v1/agents/connect`,
    enrollUrl: `${base}/v1/agents/enroll`,
  };
}
