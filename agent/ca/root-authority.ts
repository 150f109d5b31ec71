/**
 * Standalone mode: the agent's own root CA. Made on first start (key in the keychain, certificate in
 * `<home>/ca/root.pem`), name-constrained to the policy's intercepted hosts, re-issued when a new
 * policy names a host outside them, and rotated on `outpost ca rotate`.
 *
 * Validity: 3 years. Long enough that a standalone user, who had to approve the trust step with
 * admin rights, rarely repeats it (laptops are typically replaced on a 3–4 year cycle); short enough
 * that a copied root does not outlive the machine by much. Name constraints limit what a stolen key
 * could impersonate anyway, and the leaves it issues live 45 days. The agent renews the root itself
 * when less than 60 days remain.
 */
import os from 'node:os';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';
import { generateEcKey, type KeyMaterial } from './keys.js';
import { KeyName, type KeyStore } from './keystore.js';
import { issuingCa, type IssuingCa } from './issuing-ca.js';
import { caSpec } from '../../shared/x509/profiles.js';
import { signCertificate } from '../../shared/x509/certificate.js';
import { toPem } from '../../shared/x509/pem.js';
import { covers, subtreesFor } from '../../shared/x509/name-constraints.js';
import { readFileOrNull, writeFileAtomic } from '../system/files.js';
import { CLOCK_SKEW_MS } from './issuer.js';
import { CaError } from './errors.js';

const DAY_MS = 24 * 60 * 60 * 1000;
export const ROOT_VALIDITY_MS = 3 * 365 * DAY_MS;
export const ROOT_RENEW_BEFORE_MS = 60 * DAY_MS;

export interface RootAuthorityOptions {
  readonly home: string;
  readonly keys: KeyStore;
  /** The policy's intercepted host patterns; null turns name constraints off. */
  readonly constrainTo: readonly string[] | null;
  /**
   * Where a root key made while the keychain was unavailable sits (the file fallback). When the
   * keychain's key does not match root.pem but this one does, it moves into `keys`: the keychain
   * came back, and the root the stores trust now stays (no new root, no new trust prompt).
   */
  readonly fallbackKeys?: KeyStore;
  /** Names the device in the subject; the OS host name by default. */
  readonly deviceName?: string;
  readonly now?: () => number;
}

/** Why the root changed, for the caller that must re-trust it. */
export type RootChange = 'created' | 'reissued-for-hosts' | 'renewed' | 'rotated' | 'unchanged';

/** The standalone root CA. */
export class RootAuthority {
  private constructor(
    private readonly options: RootAuthorityOptions,
    private current: IssuingCa,
    /** What opening it did: a fresh root, a renewal, or nothing. */
    readonly opened: RootChange,
    /** The root certificate (PEM) that opening replaced, to re-trust its successor where it was trusted; null when none was. */
    readonly replaced: string | null,
  ) {}

  /** The root certificate's path: what `outpost ca path` prints and the trust stores install. */
  static certPath(home: string): string {
    return path.join(home, 'ca', 'root.pem');
  }

  /**
   * Loads the root, creating it on first start (or when its key is gone) and renewing it near
   * expiry. It does not look at the policy's hosts: the certificate authority follows the policy
   * in one place (`CertificateAuthority.applyPolicy`), at start as on every later change.
   */
  static async open(options: RootAuthorityOptions): Promise<RootAuthority> {
    const certPem = await readFileOrNull(RootAuthority.certPath(options.home));
    let ca = certPem === null ? null : pair(certPem, await options.keys.load(KeyName.root));
    if (certPem !== null && ca === null && options.fallbackKeys) {
      ca = pair(certPem, await options.fallbackKeys.load(KeyName.root));
      if (ca !== null) {
        await options.keys.save(KeyName.root, ca.key);
        await options.fallbackKeys.delete(KeyName.root);
      }
    }
    if (ca !== null) {
      const root = new RootAuthority(options, ca, 'unchanged', null);
      return (await root.renewIfDue()) ? new RootAuthority(options, root.ca, 'renewed', certPem) : root;
    }
    const created = await persist(options, await signRoot(options, await generateEcKey(), wantedSubtrees(options)));
    return new RootAuthority(options, created, 'created', certPem);
  }

  /** The CA that signs leaves. */
  get ca(): IssuingCa {
    return this.current;
  }

  get certPath(): string {
    return RootAuthority.certPath(this.options.home);
  }

  /**
   * Makes sure the root's name constraints cover `hostPatterns` (a new policy). When a host falls
   * outside them, the root is re-issued (same key, constraints = exactly the new policy's hosts)
   * and must be re-trusted: resolves `reissued-for-hosts` so the caller does that. A policy that
   * only drops hosts keeps the wider root, to spare the user a trust prompt for no new host.
   */
  async coverHosts(hostPatterns: readonly string[]): Promise<RootChange> {
    if (this.options.constrainTo === null) return 'unchanged';
    const wanted = subtreesFor(hostPatterns);
    if (covers(this.current.permittedDns, wanted)) return 'unchanged';
    this.current = await persist(this.options, await signRoot(this.options, this.current.key, wanted));
    return 'reissued-for-hosts';
  }

  /**
   * Renews the root (same key, same constraints) once less than ROOT_RENEW_BEFORE_MS is left; the
   * caller re-trusts it. Resolves true when it renewed. Same key and subject: a client still holding
   * the old root keeps accepting the leaves until the old root itself expires.
   */
  async renewIfDue(): Promise<boolean> {
    if (this.current.notAfter.getTime() - this.now() > ROOT_RENEW_BEFORE_MS) return false;
    this.current = await persist(this.options, await signRoot(this.options, this.current.key, this.current.permittedDns));
    return true;
  }

  /**
   * A new key and root for `outpost ca rotate`, not yet in use or stored: the caller trusts it
   * beside the old one first, then `adopt`s it, so no client meets a root it does not trust yet.
   */
  async mint(): Promise<IssuingCa> {
    return signRoot(this.options, await generateEcKey(), this.current.permittedDns ?? wantedSubtrees(this.options));
  }

  /** Stores a minted root (key in the keychain, certificate in root.pem) and makes it the CA. */
  async adopt(minted: IssuingCa): Promise<void> {
    this.current = await persist(this.options, minted);
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}

/** The root for `certPem` and `key`, or null when there is no key or it is not the certificate's. */
function pair(certPem: string, key: KeyMaterial | null): IssuingCa | null {
  if (key === null) return null;
  try {
    return issuingCa(certPem, key, 'root');
  } catch (err) {
    if (err instanceof CaError) return null;
    throw err;
  }
}

function wantedSubtrees(options: RootAuthorityOptions): string[] | null {
  return options.constrainTo === null ? null : subtreesFor(options.constrainTo);
}

/** Signs a root for `key` (nothing stored yet). */
async function signRoot(options: RootAuthorityOptions, key: KeyMaterial, permittedDns: readonly string[] | null): Promise<IssuingCa> {
  const now = (options.now ?? Date.now)();
  const device = options.deviceName ?? os.hostname();
  const der = await signCertificate(
    caSpec({
      // The key id in the CN tells two roots of one device apart (after a rotation, in trust stores).
      subject: [
        ['O', 'Outpost'],
        ['OU', `device ${device}`.slice(0, 64)],
        ['CN', `Outpost local CA ${key.keyId.toString('hex').slice(0, 8)}`],
      ],
      spki: key.spki,
      keyId: key.keyId,
      notBefore: new Date(now - CLOCK_SKEW_MS),
      notAfter: new Date(now - CLOCK_SKEW_MS + ROOT_VALIDITY_MS),
      pathLen: 0,
      permittedDns,
    }),
    key.privateKey,
  );
  return issuingCa(toPem(der, 'CERTIFICATE'), key, 'root');
}

/** Stores the key and writes the certificate. */
async function persist(options: RootAuthorityOptions, ca: IssuingCa): Promise<IssuingCa> {
  // Key first: a certificate on disk without its key would be replaced on the next start anyway.
  await options.keys.save(KeyName.root, ca.key);
  await writeFileAtomic(RootAuthority.certPath(options.home), ca.certPem);
  return ca;
}

/** Fingerprint and validity of a PEM certificate, for `ca show` and `ca status`. */
export function describeCertificate(pem: string): { subject: string; fingerprint256: string; validFrom: string; validTo: string; serial: string } {
  const x = new X509Certificate(pem);
  return { subject: x.subject.replace(/\n/g, ', '), fingerprint256: x.fingerprint256, validFrom: x.validFrom, validTo: x.validTo, serial: x.serialNumber };
}
