/**
 * Signing DER structures with node:crypto, off the event loop: the callback form of `crypto.sign`
 * runs on the libuv thread pool, so a signature never stalls the proxy.
 */
import { sign, type KeyObject } from 'node:crypto';
import { nullValue, oid, seq } from './der.js';

/** The signature algorithm a key signs with, as the hash name and the DER AlgorithmIdentifier. */
export interface SignatureAlgorithm {
  readonly hash: 'sha256' | 'sha384';
  readonly identifier: Buffer;
}

/** The algorithm for `key`: ECDSA P-256/SHA-256, ECDSA P-384/SHA-384, or RSA PKCS#1 v1.5/SHA-256. */
export function signatureAlgorithm(key: KeyObject): SignatureAlgorithm {
  const type = key.asymmetricKeyType;
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    // ecdsa-with-SHA256 / -SHA384 (RFC 5758 §3.2): parameters absent.
    if (curve === 'prime256v1') return { hash: 'sha256', identifier: seq(oid('1.2.840.10045.4.3.2')) };
    if (curve === 'secp384r1') return { hash: 'sha384', identifier: seq(oid('1.2.840.10045.4.3.3')) };
    throw new Error(`unsupported EC curve ${String(curve)}`);
  }
  // sha256WithRSAEncryption (RFC 4055 §5): parameters NULL.
  if (type === 'rsa') return { hash: 'sha256', identifier: seq(oid('1.2.840.113549.1.1.11'), nullValue()) };
  throw new Error(`unsupported signing key type ${String(type)}`);
}

/** Signs `data` on the thread pool; ECDSA signatures come DER-encoded, as X.509 wants them. */
export function signAsync(alg: SignatureAlgorithm, data: Buffer, key: KeyObject): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    sign(alg.hash, data, key, (err, signature) => (err ? reject(err) : resolve(signature)));
  });
}
