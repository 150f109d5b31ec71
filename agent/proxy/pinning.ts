/**
 * Pinned-client detection. An app that pins its provider's certificate (the ChatGPT desktop app,
 * say) aborts our handshake: an `unknown_ca` / `bad_certificate` / `certificate_unknown` alert, or a
 * close after it received our certificate. After `threshold` such aborts within `windowMs` by one
 * client for one host, that client (never the whole host: other clients stay governed) counts as
 * pinned for `ttlMs`; the policy then tunnels it (reported) or blocks it.
 *
 * Only a real ClientHello can count: the engine reads and parses it before any TLS starts, and a
 * connection whose first bytes are not one is dropped without counting (issue 10.2).
 */

/** OpenSSL error codes Node gives a server socket when the client rejects its certificate. */
const PIN_ALERTS = new Set([
  'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
  'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN',
  'ERR_SSL_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE',
  'ERR_SSL_TLSV1_ALERT_ACCESS_DENIED',
]);

/** True when a handshake error is the client refusing our certificate. */
export function isCertificateRejection(error: NodeJS.ErrnoException): boolean {
  return error.code !== undefined && PIN_ALERTS.has(error.code);
}

/**
 * Who a client is, as far as the agent can tell: its process where the OS tells (not yet: Node
 * has no peer-process lookup, see the README), otherwise its User-Agent (from the CONNECT) and its
 * TLS stack (the ClientHello's fingerprint and ALPN list).
 */
export interface ClientIdentity {
  readonly app: string | null;
  readonly fingerprint: string;
  readonly alpn: readonly string[];
}

/** The words status and audit use for a client. */
export function describeClient(client: ClientIdentity): string {
  const alpn = client.alpn.length === 0 ? '' : `, ALPN ${client.alpn.join('/')}`;
  return `${client.app ?? 'an unnamed client'} (TLS ${client.fingerprint}${alpn})`;
}

/** A client counted as pinned for a host. */
export interface PinnedClient {
  readonly host: string;
  /** {@link describeClient}'s words. */
  readonly client: string;
  readonly aborts: number;
  readonly reason: string;
  /** Epoch ms. */
  readonly since: number;
  readonly expiresAt: number;
}

/** How pinning is counted. */
export interface PinningOptions {
  /** Aborts that make a client pinned (default 3). */
  readonly threshold?: number;
  /** The aborts must fall within this window (ms, default 10 minutes). */
  readonly windowMs?: number;
  /** How long a client stays pinned (ms, default 1 hour); then it is intercepted again. */
  readonly ttlMs?: number;
  /** The clock (tests). */
  readonly now?: () => number;
}

/** Client-host pairs with aborts counted at once (beyond it the counts start over). */
const MAX_TRACKED = 10_000;

/** Counts handshake aborts per client and host. */
export class PinningTracker {
  readonly threshold: number;
  private readonly windowMs: number;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly aborts = new Map<string, { count: number; first: number }>();
  private readonly pins = new Map<string, PinnedClient>();

  constructor(options: PinningOptions = {}) {
    this.threshold = options.threshold ?? 3;
    this.windowMs = options.windowMs ?? 10 * 60_000;
    this.ttlMs = options.ttlMs ?? 60 * 60_000;
    this.now = options.now ?? Date.now;
  }

  /** The pin for this client and host, or null. Hot path: one size check when nothing is pinned. */
  pinned(host: string, client: ClientIdentity): PinnedClient | null {
    if (this.pins.size === 0) return null;
    const key = keyOf(host, client);
    const pin = this.pins.get(key);
    if (pin === undefined) return null;
    if (pin.expiresAt <= this.now()) {
      this.pins.delete(key);
      return null;
    }
    return pin;
  }

  /** Counts one abort; returns the pin when this abort crossed the threshold. */
  abort(host: string, client: ClientIdentity, reason: string): PinnedClient | null {
    const key = keyOf(host, client);
    if (this.pinned(host, client) !== null) return null;
    const now = this.now();
    // Wildcard policies admit endless names: a client aborting on each must not grow this forever.
    if (this.aborts.size >= MAX_TRACKED && !this.aborts.has(key)) this.aborts.clear();
    const seen = this.aborts.get(key);
    const counted = seen === undefined || now - seen.first > this.windowMs ? { count: 1, first: now } : { count: seen.count + 1, first: seen.first };
    this.aborts.set(key, counted);
    if (counted.count < this.threshold) return null;
    this.aborts.delete(key);
    const pin: PinnedClient = { host, client: describeClient(client), aborts: counted.count, reason, since: now, expiresAt: now + this.ttlMs };
    this.pins.set(key, pin);
    return pin;
  }

  /** A completed handshake: this client trusts us for this host, so earlier aborts were something else. */
  succeeded(host: string, client: ClientIdentity): void {
    if (this.aborts.size !== 0) this.aborts.delete(keyOf(host, client));
  }

  /** The pins in force, for status. */
  list(): PinnedClient[] {
    const now = this.now();
    for (const [key, pin] of this.pins) if (pin.expiresAt <= now) this.pins.delete(key);
    return [...this.pins.values()];
  }
}

function keyOf(host: string, client: ClientIdentity): string {
  return `${host}\n${client.app ?? ''}\n${client.fingerprint}\n${client.alpn.join(',')}`;
}
