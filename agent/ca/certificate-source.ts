/**
 * What the interception engine needs from the certificate authority: a TLS context for a host it
 * decided to intercept. Implemented by the leaf issuer (agent/ca); the engine depends on this only.
 */
import type { SecureContext } from 'node:tls';

export interface CertificateSource {
  /**
   * The secure context (leaf + chain + the shared leaf key) for `host`. Returns synchronously
   * when the leaf is cached (the common case, no promise allocated); otherwise a promise that
   * concurrent callers for the same host share. Never blocks the event loop.
   */
  secureContext(host: string): SecureContext | Promise<SecureContext>;
  /**
   * Why no leaf can be had for `host` now (the CA's name constraints leave it out, no fleet
   * intermediate yet, not a DNS name), or null when one can. Synchronous and cheap: the engine asks
   * before it answers a CONNECT, so a host the CA cannot sign for is refused in plain HTTP.
   */
  cannotIssue(host: string): Error | null;
  /** Issue ahead of time (exact policy hosts at start), so no client waits on the first handshake. */
  prewarm(hosts: readonly string[]): Promise<void>;
}
