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
  /** Issue ahead of time (exact policy hosts at start), so no client waits on the first handshake. */
  prewarm(hosts: readonly string[]): Promise<void>;
}
