/**
 * Fleet mode, the device's side: the organisation root lives on the central gateway (and reaches
 * the device's trust stores once, by MDM). The device generates its own key pair, sends a CSR, and
 * installs the name-constrained intermediate (≤ 30 days) that comes back; that intermediate issues
 * the leaves, and the chain leaf + intermediate is served on every handshake. The intermediate is
 * renewed (same device key, new CSR) once a third of its lifetime is left, so a device that misses
 * a few syncs keeps working, and an intermediate copied off a lost laptop dies within 30 days.
 */
import os from 'node:os';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';
import { generateEcKey, type KeyMaterial } from './keys.js';
import { KeyName, type KeyStore } from './keystore.js';
import { issuingCa, type IssuingCa } from './issuing-ca.js';
import { createCsr } from '../../shared/x509/csr.js';
import { MAX_INTERMEDIATE_LIFETIME_MS } from '../../shared/x509/intermediate.js';
import { readFileOrNull, writeFileAtomic } from '../system/files.js';
import { CaError } from './errors.js';
import { covers, subtreesFor } from '../../shared/x509/name-constraints.js';

/** Slack on the 30-day limit for an issuer that backdates notBefore for clock skew (one day). */
const LIFETIME_SLACK_MS = 24 * 60 * 60 * 1000;

/** What the organisation's signer answers to a CSR (the sync client carries it to the gateway). */
export interface SignedIntermediate {
  readonly intermediatePem: string;
  readonly orgRootPem: string;
}

/** Sends a CSR to the organisation's signer. */
export type IntermediateSigner = (csrPem: string) => Promise<SignedIntermediate>;

export interface FleetAuthorityOptions {
  readonly home: string;
  readonly keys: KeyStore;
  readonly deviceName?: string;
  /** Refuse an intermediate without name constraints (the config's `ca.nameConstraints`). */
  readonly requireNameConstraints: boolean;
  readonly now?: () => number;
}

/** The device's intermediate CA. */
export class FleetAuthority {
  private current: IssuingCa | null = null;

  private constructor(
    private readonly options: FleetAuthorityOptions,
    private readonly key: KeyMaterial,
  ) {}

  static intermediatePath(home: string): string {
    return path.join(home, 'ca', 'intermediate.pem');
  }

  /** The organisation root: what clients trust in fleet mode. */
  static orgRootPath(home: string): string {
    return path.join(home, 'ca', 'org-root.pem');
  }

  /** Loads the device key (generating it on first use) and the installed intermediate, if any. */
  static async open(options: FleetAuthorityOptions): Promise<FleetAuthority> {
    let key = await options.keys.load(KeyName.device);
    if (key === null) {
      key = await generateEcKey();
      await options.keys.save(KeyName.device, key);
    }
    const authority = new FleetAuthority(options, key);
    const intermediate = await readFileOrNull(FleetAuthority.intermediatePath(options.home));
    const orgRoot = await readFileOrNull(FleetAuthority.orgRootPath(options.home));
    if (intermediate !== null && orgRoot !== null) {
      try {
        authority.current = authority.check(intermediate, orgRoot);
      } catch (err) {
        // An expired or foreign intermediate on disk is the same as none: the next sync renews it.
        if (!(err instanceof CaError)) throw err;
      }
    }
    return authority;
  }

  /** The intermediate that signs leaves, or null until one is installed. */
  get ca(): IssuingCa | null {
    return this.current;
  }

  /** A PKCS#10 request for the device key, to send to the organisation's signer. */
  csr(): Promise<string> {
    const device = this.options.deviceName ?? os.hostname();
    return createCsr([['O', 'Outpost'], ['CN', `Outpost device ${device}`.slice(0, 64)]], this.key.privateKey, this.key.spki);
  }

  /** Checks and installs a signed intermediate; resolves to the new issuing CA. */
  async install(signed: SignedIntermediate): Promise<IssuingCa> {
    const ca = this.check(signed.intermediatePem, signed.orgRootPem);
    await writeFileAtomic(FleetAuthority.orgRootPath(this.options.home), signed.orgRootPem);
    await writeFileAtomic(FleetAuthority.intermediatePath(this.options.home), signed.intermediatePem);
    this.current = ca;
    return ca;
  }

  /**
   * True when there is no intermediate, less than a third of its lifetime is left, or its name
   * constraints do not cover `hostPatterns` (a policy that added a host: the gateway signs the new
   * intermediate for the new policy; no re-trust is needed, the organisation root stays).
   */
  needsRenewal(hostPatterns: readonly string[] = []): boolean {
    if (this.current === null) return true;
    if (!covers(this.current.permittedDns, subtreesFor(hostPatterns))) return true;
    const x = new X509Certificate(this.current.certPem);
    const from = new Date(x.validFrom).getTime();
    const to = new Date(x.validTo).getTime();
    return this.now() > to - (to - from) / 3;
  }

  /** Renews through `signer` when due (see needsRenewal); resolves to the new CA, or null when nothing was due. */
  async renewIfDue(signer: IntermediateSigner, hostPatterns: readonly string[] = []): Promise<IssuingCa | null> {
    if (!this.needsRenewal(hostPatterns)) return null;
    return this.install(await signer(await this.csr()));
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  private check(intermediatePem: string, orgRootPem: string): IssuingCa {
    const bad = (why: string): CaError => new CaError('CA_BAD_INTERMEDIATE', `the intermediate cannot be used: ${why}`);
    let x: X509Certificate;
    let root: X509Certificate;
    try {
      x = new X509Certificate(intermediatePem);
      root = new X509Certificate(orgRootPem);
    } catch {
      throw bad('not a PEM certificate');
    }
    if (!x.ca) throw bad('it is not a CA certificate');
    if (!x.checkIssued(root) || !x.verify(root.publicKey)) throw bad('it is not signed by the organisation root');
    const from = new Date(x.validFrom).getTime();
    const to = new Date(x.validTo).getTime();
    if (to <= this.now()) throw bad(`it expired on ${x.validTo}`);
    if (to - from > MAX_INTERMEDIATE_LIFETIME_MS + LIFETIME_SLACK_MS) throw bad('it lives longer than 30 days');
    let ca: IssuingCa;
    try {
      ca = issuingCa(intermediatePem, this.key, 'intermediate');
    } catch {
      throw bad('it is not for this device key');
    }
    if (this.options.requireNameConstraints && ca.permittedDns === null) throw bad('it has no name constraints');
    return ca;
  }
}
