/**
 * The CA that signs leaves right now: the standalone root, or the fleet intermediate. The issuer
 * depends on this shape only, so swapping the CA (rotation, a re-issue for new hosts, a renewed
 * intermediate) is one call.
 */
import { X509Certificate } from 'node:crypto';
import type { KeyMaterial } from './keys.js';
import { permittedDnsSubtrees, readCertificate, subjectKeyId } from '../../shared/x509/certificate.js';
import { CaError } from './errors.js';

export interface IssuingCa {
  readonly key: KeyMaterial;
  /** The CA certificate, PEM. */
  readonly certPem: string;
  /** DER Name written as the leaves' issuer. */
  readonly subject: Buffer;
  /** Its key identifier, written as the leaves' AKI. */
  readonly keyId: Buffer;
  readonly notAfter: Date;
  /** Certificates served after the leaf: '' for a root (clients hold it), the intermediate in fleet mode. */
  readonly chainPem: string;
  /** Permitted DNS subtrees, or null when the CA is not name-constrained. */
  readonly permittedDns: readonly string[] | null;
}

/** Describes a CA certificate and its key; refuses a pair that does not belong together. */
export function issuingCa(certPem: string, key: KeyMaterial, served: 'root' | 'intermediate'): IssuingCa {
  const x509 = new X509Certificate(certPem);
  const parts = readCertificate(x509.raw);
  if (!parts.spki.equals(key.spki)) throw new CaError('CA_CORRUPT', 'the CA certificate does not match the stored CA key');
  return {
    key,
    certPem,
    subject: parts.subject,
    keyId: subjectKeyId(parts) ?? key.keyId,
    notAfter: new Date(x509.validTo),
    chainPem: served === 'intermediate' ? certPem : '',
    permittedDns: permittedDnsSubtrees(parts),
  };
}

/** True when `host` falls in one of the DNS subtrees (RFC 5280 §4.2.1.10: the subtree or a name below it). */
export function permits(permittedDns: readonly string[] | null, host: string): boolean {
  if (permittedDns === null) return true;
  return permittedDns.some((base) => host === base || host.endsWith(`.${base}`));
}
