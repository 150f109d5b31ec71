/**
 * The certificate extensions Outpost writes (RFC 5280 §4.2), each as a DER `Extension`.
 * What goes on which certificate is decided in profiles.ts; this file only encodes.
 */
import { createHash } from 'node:crypto';
import { bool, children, ctx, ctxPrim, namedBits, octets, oid, readNode, seq, smallInt } from './der.js';

/** Extension OIDs (RFC 5280 §4.2.1). */
export const ExtOid = {
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  nameConstraints: '2.5.29.30',
  extKeyUsage: '2.5.29.37',
  authorityKeyIdentifier: '2.5.29.35',
} as const;

/** keyUsage bit numbers (RFC 5280 §4.2.1.3). */
export const KeyUsageBit = {
  digitalSignature: 0,
  keyEncipherment: 2,
  keyCertSign: 5,
  cRLSign: 6,
} as const;

/** The subtree of a CA constrained to no host at all. */
export const NO_HOST = 'invalid';

/** id-kp-serverAuth (RFC 5280 §4.2.1.12). */
export const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? seq(oid(id), bool(true), octets(value)) : seq(oid(id), octets(value));
}

/** basicConstraints, always critical (Python 3.13 strict verification refuses a CA without it). */
export function basicConstraints(ca: boolean, pathLen?: number): Buffer {
  const body = ca ? (pathLen === undefined ? seq(bool(true)) : seq(bool(true), smallInt(pathLen))) : seq();
  return extension(ExtOid.basicConstraints, true, body);
}

/** keyUsage, critical. */
export function keyUsage(bitsSet: readonly number[]): Buffer {
  return extension(ExtOid.keyUsage, true, namedBits(bitsSet));
}

/** extKeyUsage, not critical (the CA/Browser Forum baseline profile). */
export function extKeyUsage(purposes: readonly string[]): Buffer {
  return extension(ExtOid.extKeyUsage, false, seq(...purposes.map(oid)));
}

/**
 * The key identifier of a SubjectPublicKeyInfo: SHA-1 of the subjectPublicKey bits
 * (RFC 5280 §4.2.1.2, method 1). SHA-1 here is an identifier, not a security function.
 */
export function keyIdentifier(spkiDer: Buffer): Buffer {
  const [, publicKeyBits] = children(readNode(spkiDer).node);
  if (!publicKeyBits) throw new Error('not a SubjectPublicKeyInfo');
  return createHash('sha1').update(publicKeyBits.content.subarray(1)).digest();
}

export function subjectKeyIdentifier(keyId: Buffer): Buffer {
  return extension(ExtOid.subjectKeyIdentifier, false, octets(keyId));
}

/** authorityKeyIdentifier with keyIdentifier `[0]` only (what Python 3.13 strict requires). */
export function authorityKeyIdentifier(keyId: Buffer): Buffer {
  return extension(ExtOid.authorityKeyIdentifier, false, seq(ctxPrim(0, keyId)));
}

/** subjectAltName with dNSName entries `[2]`. */
export function subjectAltName(dnsNames: readonly string[]): Buffer {
  return extension(ExtOid.subjectAltName, false, seq(...dnsNames.map((n) => ctxPrim(2, Buffer.from(n, 'ascii')))));
}

/**
 * nameConstraints, critical (RFC 5280 §4.2.1.10 says it MUST be): `permittedDns` as dNSName
 * subtrees (`example.com` permits it and every name below it), and every IPv4 and IPv6 address
 * excluded, so a stolen key cannot mint a certificate for an address either.
 */
export function nameConstraints(permittedDns: readonly string[]): Buffer {
  // GeneralSubtree ::= SEQUENCE { base GeneralName, minimum [0] DEFAULT 0, maximum [1] OPTIONAL }.
  // permittedSubtrees may not be empty (SIZE (1..MAX)); a policy with no hosts permits only the
  // reserved `invalid` name (RFC 6761 §6.4), which no real host has.
  const permitted = (permittedDns.length > 0 ? permittedDns : [NO_HOST]).map((d) => seq(ctxPrim(2, Buffer.from(d, 'ascii'))));
  // iPAddress [7] is address + mask: 0.0.0.0/0 and ::/0 cover every address.
  const excluded = [seq(ctxPrim(7, Buffer.alloc(8))), seq(ctxPrim(7, Buffer.alloc(32)))];
  return extension(ExtOid.nameConstraints, true, seq(ctx(0, Buffer.concat(permitted)), ctx(1, Buffer.concat(excluded))));
}
