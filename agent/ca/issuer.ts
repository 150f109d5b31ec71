/**
 * The leaf issuer: implements the engine's CertificateSource. One leaf key pair per process
 * (generated asynchronously at start), one leaf per host, signed natively on the thread pool,
 * cached in a bounded LRU and re-issued in the background before it expires. Concurrent first
 * requests for a host share one issuance.
 */
import type { SecureContext } from 'node:tls';
import { isIP } from 'node:net';
import { LRUCache } from 'lru-cache';
import type { CertificateSource } from './certificate-source.js';
import { generateEcKey, type KeyMaterial } from './keys.js';
import { permits, type IssuingCa } from './issuing-ca.js';
import { leafSpec } from '../../shared/x509/profiles.js';
import { signCertificate } from '../../shared/x509/certificate.js';
import { toPem } from '../../shared/x509/pem.js';
import { CaError } from './errors.js';
import { ContextPool } from './context-pool.js';
import { isDnsName } from '../../shared/schema/common.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Leaf lifetime: 45 days, under the CA/Browser Forum ballot SC-081 limit (47 days by 2029). */
export const LEAF_VALIDITY_MS = 45 * DAY_MS;
/** notBefore is backdated an hour so a client whose clock runs a little behind still accepts the leaf. */
export const CLOCK_SKEW_MS = 60 * 60 * 1000;
/** A leaf is re-issued (in the background, the old one still served) once it has less than this left. */
export const RENEW_BEFORE_MS = 15 * DAY_MS;
/**
 * Hosts kept; an agent sees tens of AI hosts, a bound keeps a wildcard policy from growing without
 * end (each cached context holds ~21 KB of OpenSSL state, so the bound is ~21 MB at most).
 */
export const DEFAULT_MAX_HOSTS = 1000;

/**
 * Contexts made ahead (about 21 KB each, measured: 64 cost ~1.4 MB). A burst of new hosts beyond
 * this builds the rest on demand; 64 covers the 50-host burst of the CA benchmark.
 */
const CONTEXT_POOL_SIZE = 64;

/** One issued leaf. */
export interface IssuedLeaf {
  readonly host: string;
  readonly context: SecureContext;
  /** Leaf then chain, PEM (what the handshake sends). */
  readonly certPem: string;
  readonly notAfter: number;
  readonly renewAt: number;
}

export interface LeafIssuerOptions {
  maxHosts?: number;
  /** The clock, for tests of expiry; milliseconds like Date.now. */
  now?: () => number;
  /** A key to reuse instead of generating one (tests and benches only). */
  leafKey?: KeyMaterial;
}

/** Issues and caches leaf certificates under the current issuing CA. */
export class LeafIssuer implements CertificateSource {
  private readonly cache: LRUCache<string, IssuedLeaf>;
  private readonly inflight = new Map<string, Promise<IssuedLeaf>>();
  private readonly now: () => number;
  /** Bumped on every CA change, so an issuance that straddles the change is not cached. */
  private generation = 0;
  private issuedCount = 0;
  /** Finished signatures waiting for their secure context, released one per event-loop turn. */
  private readonly ready: Array<() => void> = [];
  private draining = false;
  private readonly contexts: ContextPool;

  private constructor(
    private ca: IssuingCa | null,
    private readonly leafKey: KeyMaterial,
    options: LeafIssuerOptions,
  ) {
    this.cache = new LRUCache({ max: options.maxHosts ?? DEFAULT_MAX_HOSTS });
    this.now = options.now ?? Date.now;
    this.contexts = new ContextPool(leafKey.privatePem, CONTEXT_POOL_SIZE, () => this.ready.length > 0);
  }

  /**
   * Creates an issuer; the leaf key pair is generated here, off the event loop. `ca` is null in
   * fleet mode until an intermediate is installed: until then every issuance fails with
   * `CA_NO_INTERMEDIATE`, and the engine applies the policy's fail mode.
   */
  static async create(ca: IssuingCa | null, options: LeafIssuerOptions = {}): Promise<LeafIssuer> {
    return new LeafIssuer(ca, options.leafKey ?? (await generateEcKey()), options);
  }

  /** Leaf certificates cached now (for `outpost_certificate_cache_entries`). */
  get cachedHosts(): number {
    return this.cache.size;
  }

  // HOT PATH: called from the engine's SNICallback for every intercepted handshake.
  secureContext(host: string): SecureContext | Promise<SecureContext> {
    const cached = this.cache.get(host);
    if (cached !== undefined) {
      const now = this.now();
      if (now < cached.renewAt) return cached.context;
      if (now < cached.notAfter - CLOCK_SKEW_MS) {
        // Still good: serve it, and re-issue in the background (errors stay for the next caller).
        this.issue(host).catch(() => {});
        return cached.context;
      }
    }
    // SNI may arrive in any case (RFC 6066 §3); leaves and the cache use lower case.
    const lower = host.toLowerCase();
    if (lower !== host) return this.secureContext(lower);
    return this.issue(host).then((leaf) => leaf.context);
  }

  cannotIssue(host: string): CaError | null {
    if (this.cache.has(host)) return null;
    const lower = host.toLowerCase();
    if (isIP(lower) !== 0 || !isDnsName(lower)) return new CaError('CA_BAD_HOST', `cannot issue a certificate for "${host}": not a DNS name`);
    const ca = this.ca;
    if (ca === null) return new CaError('CA_NO_INTERMEDIATE', 'no device intermediate is installed yet (fleet mode: enrol the device)');
    if (!permits(ca.permittedDns, lower)) {
      return new CaError('CA_OUTSIDE_CONSTRAINTS', `the CA's name constraints do not cover "${lower}"; re-issue the CA for the new policy`);
    }
    return null;
  }

  /** Issues the exact hosts ahead; a host that cannot be issued (outside the constraints) is left to fail at its handshake. */
  async prewarm(hosts: readonly string[]): Promise<void> {
    await Promise.allSettled(hosts.filter((h) => !h.startsWith('*.')).map((h) => this.issue(h.toLowerCase())));
  }

  /** Issues (or joins the issuance in flight for) a leaf for `host`. */
  issue(host: string): Promise<IssuedLeaf> {
    const pending = this.inflight.get(host);
    if (pending) return pending;
    const generation = this.generation;
    const promise = this.sign(host).then(
      (leaf) => {
        if (generation === this.generation) {
          this.inflight.delete(host);
          this.cache.set(host, leaf);
        }
        return leaf;
      },
      (err: unknown) => {
        if (generation === this.generation) this.inflight.delete(host);
        throw err;
      },
    );
    this.inflight.set(host, promise);
    return promise;
  }

  /** Switches to a new issuing CA (rotation, re-issue, renewed intermediate); cached leaves are dropped. */
  setCa(ca: IssuingCa): void {
    this.ca = ca;
    this.generation++;
    this.cache.clear();
    this.inflight.clear();
  }

  /** The issuing CA in use. */
  get issuingCa(): IssuingCa | null {
    return this.ca;
  }

  /** Counters for status and tests: hosts cached, leaves signed since start. */
  stats(): { cachedHosts: number; issued: number } {
    return { cachedHosts: this.cache.size, issued: this.issuedCount };
  }

  private async sign(host: string): Promise<IssuedLeaf> {
    const refused = this.cannotIssue(host);
    if (refused !== null) throw refused;
    const ca = this.ca as IssuingCa;
    const now = this.now();
    const notBefore = now - CLOCK_SKEW_MS;
    // A leaf never outlives its CA: past that, the chain would fail anyway.
    const notAfter = Math.min(notBefore + LEAF_VALIDITY_MS, ca.notAfter.getTime());
    const der = await signCertificate(
      leafSpec({
        host,
        issuer: ca.subject,
        issuerKeyId: ca.keyId,
        spki: this.leafKey.spki,
        keyId: this.leafKey.keyId,
        rsa: this.leafKey.rsa,
        notBefore: new Date(notBefore),
        notAfter: new Date(notAfter),
      }),
      ca.key.privateKey,
    );
    const certPem = toPem(der, 'CERTIFICATE') + ca.chainPem;
    this.issuedCount++;
    const context = await this.paced(() => this.contexts.take(certPem));
    return { host, certPem, context, notAfter, renewAt: Math.max(now, notAfter - RENEW_BEFORE_MS) };
  }

  /**
   * Runs `work` in its own event-loop turn, one at a time. Filling a secure context costs up to a
   * millisecond of main-thread time (context-pool.ts), and the engine resumes the handshake right
   * after it, another millisecond. When many new hosts arrive at
   * once their signatures finish together; releasing them one per turn (setImmediate, so I/O is
   * polled in between) keeps a request on an existing connection from waiting behind all of them.
   */
  private paced<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const run = (): void => {
        try {
          resolve(work());
        } catch (err) {
          reject(err as Error);
        }
      };
      if (this.draining) {
        this.ready.push(run);
        return;
      }
      // Nothing ran this turn: run now (a lone new host pays no extra hop), and let the rest of
      // this turn's completions queue behind it.
      this.draining = true;
      setImmediate(this.drain);
      run();
    });
  }

  private readonly drain = (): void => {
    this.ready.shift()?.();
    if (this.ready.length > 0) setImmediate(this.drain);
    else this.draining = false;
  };
}
