/**
 * Pinned-client detection. An app that pins its provider's certificate (the ChatGPT desktop app,
 * say) aborts our handshake: an `unknown_ca` / `bad_certificate` / `certificate_unknown` alert, or a
 * close right after our ServerHello. After `threshold` such aborts for one host, that host is
 * tunnelled for the rest of this run (the app works, ungoverned) and reported once.
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

/** Hosts with aborts counted at once (beyond it the counts start over). */
const MAX_TRACKED = 10_000;

/** A host newly declared pinned. */
export interface PinnedHost {
  readonly host: string;
  readonly aborts: number;
  readonly reason: string;
}

/** Counts handshake aborts per host. */
export class PinningTracker {
  private readonly aborts = new Map<string, number>();
  private readonly pinned = new Set<string>();

  constructor(readonly threshold: number) {}

  /** True when `host` is tunnelled because its clients pin. Hot path: one Set lookup. */
  isPinned(host: string): boolean {
    return this.pinned.size !== 0 && this.pinned.has(host);
  }

  /** Counts one abort; returns the host when this abort crossed the threshold. */
  abort(host: string, reason: string): PinnedHost | null {
    if (this.pinned.has(host)) return null;
    // Wildcard policies admit endless names: a client aborting on each must not grow this forever.
    if (this.aborts.size >= MAX_TRACKED && !this.aborts.has(host)) this.aborts.clear();
    const count = (this.aborts.get(host) ?? 0) + 1;
    this.aborts.set(host, count);
    if (count < this.threshold) return null;
    this.pinned.add(host);
    this.aborts.delete(host);
    return { host, aborts: count, reason };
  }

  /** A completed handshake: the host's clients trust us, so earlier aborts were something else. */
  succeeded(host: string): void {
    if (this.aborts.size !== 0) this.aborts.delete(host);
  }

  /** Hosts tunnelled because of pinning, for status. */
  hosts(): string[] {
    return [...this.pinned];
  }
}
