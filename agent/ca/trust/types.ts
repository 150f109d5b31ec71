/**
 * A trust store the CA can be installed into, and the certificate as the stores name it. Every
 * store removes "ours" by a stable name (file name, NSS nickname) or by hash, so `untrust` after a
 * rotation or a re-issue still finds what an earlier `trust` left. Stores that name entries keep
 * two slots, the label and `<label>-next` (`trustSlots`), so a rotation can trust the new root beside
 * the old one.
 */
import { X509Certificate } from 'node:crypto';
import { createHash } from 'node:crypto';

/** The CA certificate as trust stores see it. */
export interface TrustedCert {
  readonly pem: string;
  /** A file holding exactly `pem` (certutil, security and update-ca-* read files). */
  readonly path: string;
  /** Stable per agent home: the NSS nickname and the system-bundle file name derive from it. */
  readonly label: string;
  /** SHA-1 of the DER, upper-case hex: macOS removes by it, Windows calls it the thumbprint. */
  readonly sha1: string;
}

/** Describes the CA certificate at `path` for an agent home labelled `label`. */
export function trustedCert(pem: string, path: string, home: string): TrustedCert {
  const x = new X509Certificate(pem);
  return {
    pem,
    path,
    label: `outpost-${createHash('sha256').update(home).digest('hex').slice(0, 12)}`,
    sha1: x.fingerprint.replace(/:/g, ''),
  };
}

/** One OS or application trust store. */
export interface TrustStore {
  /** Stable id for status and `--json` (`linux-system`, `nss:/home/u/.pki/nssdb`, `macos-system`, `windows-root`). */
  readonly id: string;
  /** Plain words for people: which store, who reads it. */
  readonly description: string;
  /** True when this exact certificate is trusted in the store. */
  isTrusted(cert: TrustedCert): Promise<boolean>;
  /**
   * Installs `cert` as a trusted root. The stores that name ours (system bundle, NSS) keep it as
   * their only one, whichever slot it sits in; macOS and Windows add it beside earlier ones.
   */
  install(cert: TrustedCert): Promise<void>;
  /**
   * Trusts `cert` beside the one of ours already there (a rotation's first step: clients accept
   * both while the agent switches keys); the `install` that follows leaves `cert` alone.
   */
  trustBeside(cert: TrustedCert): Promise<void>;
  /** Removes every certificate of ours (by label, and `cert` by hash). */
  remove(cert: TrustedCert): Promise<void>;
}

/** The names a store may keep ours under: the label, and the second slot a rotation stages into. */
export function trustSlots(cert: TrustedCert): readonly [string, string] {
  return [cert.label, `${cert.label}-next`];
}
