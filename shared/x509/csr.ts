/**
 * PKCS#10 certificate requests (RFC 2986): the fleet device proves it holds its intermediate's key,
 * and the organisation's signer reads the request back. Built and signed like certificates.
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { bits, children, ctx, readNode, seq, smallInt, DerError } from './der.js';
import { encodeName, type NameAttribute } from './name.js';
import { signAsync, signatureAlgorithm } from './signing.js';
import { firstPem, toPem } from './pem.js';

/** Builds a signed CSR for `key` (PEM, `CERTIFICATE REQUEST`). */
export async function createCsr(subject: readonly NameAttribute[], key: KeyObject, spki: Buffer): Promise<string> {
  const alg = signatureAlgorithm(key);
  // version 0, subject, key, attributes [0] (none).
  const info = seq(smallInt(0), encodeName(subject), spki, ctx(0, Buffer.alloc(0)));
  const signature = await signAsync(alg, info, key);
  return toPem(seq(info, alg.identifier, bits(signature)), 'CERTIFICATE REQUEST');
}

/** A CSR whose signature has been checked. */
export interface VerifiedCsr {
  readonly subject: Buffer;
  readonly spki: Buffer;
}

/** Reads a CSR and checks that it was signed by the key it carries (proof of possession). */
export function readCsr(pem: string): VerifiedCsr {
  const [info, , signature] = children(readNode(firstPem(pem, 'CERTIFICATE REQUEST')).node);
  if (!info || !signature) throw new DerError('not a certificate request');
  const [, subject, spki] = children(info);
  if (!subject || !spki) throw new DerError('truncated certificate request');
  const publicKey = createPublicKey({ key: spki.raw, format: 'der', type: 'spki' });
  const hash = publicKey.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? 'sha384' : 'sha256';
  if (!verify(hash, info.raw, publicKey, signature.content.subarray(1))) {
    throw new DerError('the certificate request signature does not verify');
  }
  return { subject: subject.raw, spki: spki.raw };
}
