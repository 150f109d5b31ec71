/**
 * What Outpost puts on each kind of certificate: the root (standalone), the device intermediate
 * (fleet, signed by the organisation root from the device's CSR) and the leaves. The extension sets
 * satisfy OpenSSL's `-x509_strict` and Python 3.13's `VERIFY_X509_STRICT` (FIELD-NOTES "Certificates").
 */
import { randomBytes } from 'node:crypto';
import { encodeName, COMMON_NAME_MAX, type NameAttribute } from './name.js';
import {
  authorityKeyIdentifier,
  basicConstraints,
  extKeyUsage,
  keyUsage,
  KeyUsageBit,
  nameConstraints,
  SERVER_AUTH,
  subjectAltName,
  subjectKeyIdentifier,
} from './extensions.js';
import type { CertificateSpec } from './certificate.js';

/** 128 random bits, top bit clear so the INTEGER stays positive (CA/B Forum BR §7.1: ≥ 64 bits). */
export function randomSerial(): Buffer {
  const serial = randomBytes(16);
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x01;
  return serial;
}

/** A CA certificate (root or intermediate): critical basicConstraints and keyUsage, SKI, AKI. */
export interface CaProfileInput {
  readonly subject: readonly NameAttribute[];
  /** DER Name of the issuer; the subject itself for a root. */
  readonly issuer?: Buffer;
  readonly spki: Buffer;
  readonly keyId: Buffer;
  /** Key identifier of the issuer; the subject's own for a root. */
  readonly issuerKeyId?: Buffer;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** 0: issues leaves only; 1: may issue one intermediate level below. */
  readonly pathLen: 0 | 1;
  /** Permitted DNS subtrees, or null for no name constraints. */
  readonly permittedDns: readonly string[] | null;
}

/** The certificate spec of a CA. */
export function caSpec(input: CaProfileInput): CertificateSpec {
  const subject = encodeName(input.subject);
  const extensions = [
    basicConstraints(true, input.pathLen),
    keyUsage([KeyUsageBit.keyCertSign, KeyUsageBit.cRLSign]),
    subjectKeyIdentifier(input.keyId),
    authorityKeyIdentifier(input.issuerKeyId ?? input.keyId),
  ];
  if (input.permittedDns !== null) extensions.push(nameConstraints(input.permittedDns));
  return {
    serial: randomSerial(),
    issuer: input.issuer ?? subject,
    subject,
    notBefore: input.notBefore,
    notAfter: input.notAfter,
    spki: input.spki,
    extensions,
  };
}

/** A leaf for one host. */
export interface LeafProfileInput {
  readonly host: string;
  readonly issuer: Buffer;
  readonly issuerKeyId: Buffer;
  readonly spki: Buffer;
  readonly keyId: Buffer;
  /** RSA leaf keys also get keyEncipherment (RSA key exchange); EC keys only digitalSignature. */
  readonly rsa: boolean;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** The certificate spec of a leaf: SAN dNSName, CN, EKU serverAuth, keyUsage, AKI + SKI. */
export function leafSpec(input: LeafProfileInput): CertificateSpec {
  const usage = input.rsa ? [KeyUsageBit.digitalSignature, KeyUsageBit.keyEncipherment] : [KeyUsageBit.digitalSignature];
  return {
    serial: randomSerial(),
    issuer: input.issuer,
    // The CN is informational (clients match the SAN); a host longer than its bound goes in the SAN only.
    subject: encodeName(input.host.length <= COMMON_NAME_MAX ? [['CN', input.host]] : [['O', 'Outpost']]),
    notBefore: input.notBefore,
    notAfter: input.notAfter,
    spki: input.spki,
    extensions: [
      basicConstraints(false),
      keyUsage(usage),
      extKeyUsage([SERVER_AUTH]),
      subjectKeyIdentifier(input.keyId),
      authorityKeyIdentifier(input.issuerKeyId),
      subjectAltName([input.host]),
    ],
  };
}
