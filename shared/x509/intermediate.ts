/**
 * Signing a device's intermediate from its CSR, as the organisation root does in fleet mode. The
 * central gateway's signing uses this; tests use it with a root they make themselves.
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import { readCsr } from './csr.js';
import { caSpec } from './profiles.js';
import { readCertificate, signCertificate, subjectKeyId } from './certificate.js';
import { keyIdentifier } from './extensions.js';
import { toPem } from './pem.js';

/** The longest a device intermediate may live: 30 days (issue 3), so a lost laptop's CA dies soon. */
export const MAX_INTERMEDIATE_LIFETIME_MS = 30 * 24 * 60 * 60 * 1000;

export interface IntermediateRequest {
  readonly csrPem: string;
  readonly issuerCertPem: string;
  readonly issuerKey: KeyObject;
  /** Permitted DNS subtrees (from the policy's intercepted hosts), or null for none. */
  readonly permittedDns: readonly string[] | null;
  readonly notBefore: Date;
  /** At most MAX_INTERMEDIATE_LIFETIME_MS after notBefore. */
  readonly lifetimeMs: number;
  /** The device's name for the certificate subject (the CSR's own subject is not trusted). */
  readonly deviceName: string;
}

/** Signs a name-constrained, pathlen-0 intermediate for the key in the CSR; resolves to PEM. */
export async function signIntermediate(req: IntermediateRequest): Promise<string> {
  const csr = readCsr(req.csrPem);
  const issuer = readCertificate(new X509Certificate(req.issuerCertPem).raw);
  const lifetime = Math.min(req.lifetimeMs, MAX_INTERMEDIATE_LIFETIME_MS);
  const der = await signCertificate(
    caSpec({
      subject: [
        ['O', 'Outpost'],
        ['OU', `device ${req.deviceName}`],
        ['CN', `Outpost device CA ${req.deviceName}`.slice(0, 64)],
      ],
      issuer: issuer.subject,
      spki: csr.spki,
      keyId: keyIdentifier(csr.spki),
      issuerKeyId: subjectKeyId(issuer) ?? keyIdentifier(issuer.spki),
      notBefore: req.notBefore,
      notAfter: new Date(req.notBefore.getTime() + lifetime),
      pathLen: 0,
      permittedDns: req.permittedDns,
    }),
    req.issuerKey,
  );
  return toPem(der, 'CERTIFICATE');
}
