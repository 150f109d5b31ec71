/**
 * Building and reading X.509 v3 certificates (RFC 5280 §4.1). The TBSCertificate is encoded here in
 * a few dozen microseconds and signed natively (signing.ts); reading extracts the raw parts a CA
 * needs to issue below a certificate (its subject Name and key identifier).
 */
import type { KeyObject } from 'node:crypto';
import { bits, children, ctx, readNode, seq, smallInt, time, uint, Tag, decodeOid, DerError, type DerNode } from './der.js';
import { signAsync, signatureAlgorithm } from './signing.js';
import { ExtOid } from './extensions.js';

/** Everything a certificate says, already encoded where it is DER. */
export interface CertificateSpec {
  /** Positive serial, at most 20 bytes (RFC 5280 §4.1.2.2). */
  readonly serial: Buffer;
  /** The issuer's subject Name, DER. */
  readonly issuer: Buffer;
  readonly subject: Buffer;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** The subject's SubjectPublicKeyInfo, DER. */
  readonly spki: Buffer;
  /** Encoded `Extension`s. */
  readonly extensions: readonly Buffer[];
}

/** Encodes the TBSCertificate of `spec` for `signatureAlgorithm`. */
export function encodeTbs(spec: CertificateSpec, algorithmIdentifier: Buffer): Buffer {
  return seq(
    ctx(0, smallInt(2)), // v3
    uint(spec.serial),
    algorithmIdentifier,
    spec.issuer,
    seq(time(spec.notBefore), time(spec.notAfter)),
    spec.subject,
    spec.spki,
    ctx(3, seq(...spec.extensions)),
  );
}

/** Builds and signs a certificate with `issuerKey`; resolves to its DER. */
export async function signCertificate(spec: CertificateSpec, issuerKey: KeyObject): Promise<Buffer> {
  const alg = signatureAlgorithm(issuerKey);
  const tbs = encodeTbs(spec, alg.identifier);
  const signature = await signAsync(alg, tbs, issuerKey);
  return seq(tbs, alg.identifier, bits(signature));
}

/** The raw parts of a certificate that issuing below it needs. */
export interface CertificateParts {
  readonly subject: Buffer;
  readonly issuer: Buffer;
  readonly spki: Buffer;
  /** Extension OID → its value (the OCTET STRING content) and criticality. */
  readonly extensions: ReadonlyMap<string, { readonly critical: boolean; readonly value: Buffer }>;
}

/** Reads the raw subject, issuer, key and extensions of a DER certificate. */
export function readCertificate(der: Buffer): CertificateParts {
  const [tbs] = children(readNode(der).node);
  if (!tbs || tbs.tag !== Tag.SEQUENCE) throw new DerError('not a certificate');
  const fields = children(tbs);
  // With the explicit version [0] first: version, serial, sigAlg, issuer, validity, subject, spki.
  const base = fields[0]?.tag === 0xa0 ? 1 : 0;
  const issuer = fields[base + 2];
  const subject = fields[base + 4];
  const spki = fields[base + 5];
  if (!issuer || !subject || !spki) throw new DerError('truncated certificate');
  const extensions = new Map<string, { critical: boolean; value: Buffer }>();
  const extWrapper = fields.find((f) => f.tag === 0xa3);
  if (extWrapper) {
    const [list] = children(extWrapper);
    for (const ext of list ? children(list) : []) readExtension(ext, extensions);
  }
  return { subject: subject.raw, issuer: issuer.raw, spki: spki.raw, extensions };
}

function readExtension(ext: DerNode, into: Map<string, { critical: boolean; value: Buffer }>): void {
  const parts = children(ext);
  const id = parts[0];
  const value = parts[parts.length - 1];
  if (!id || !value) return;
  const critical = parts.length === 3 && parts[1]?.content[0] === 0xff;
  into.set(decodeOid(id.content), { critical, value: value.content });
}

/** The subjectKeyIdentifier of a parsed certificate, if it has one. */
export function subjectKeyId(parts: CertificateParts): Buffer | null {
  const ext = parts.extensions.get(ExtOid.subjectKeyIdentifier);
  return ext ? readNode(ext.value).node.content : null;
}

/** The permitted dNSName subtrees of a certificate's nameConstraints, or null when unconstrained. */
export function permittedDnsSubtrees(parts: CertificateParts): string[] | null {
  const ext = parts.extensions.get(ExtOid.nameConstraints);
  if (!ext) return null;
  const permitted = children(readNode(ext.value).node).find((n) => n.tag === 0xa0);
  if (!permitted) return [];
  return children(permitted)
    .map((subtree) => children(subtree)[0])
    .filter((base): base is DerNode => base?.tag === 0x82)
    .map((base) => base.content.toString('ascii'));
}
