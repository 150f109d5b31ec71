/**
 * Signed policy: the central gateway signs each policy version with its Ed25519 key; the agent
 * checks the signature against the gateway key it pinned at enrollment before it applies anything
 * (the sync protocol, planned: docs/architecture.md). The signature covers the version and the canonical document, so a
 * replayed old version under a new number, or any edited field, fails.
 */
import crypto from 'node:crypto';
import { canonicalJson } from './canonical-json.js';

/** A policy as it travels from the gateway. */
export interface SignedPolicy {
  readonly version: number;
  readonly document: unknown;
  /** Base64 Ed25519 signature over `signedBytes(version, document)`. */
  readonly signature: string;
}

/** The bytes a signature covers. */
export function signedBytes(version: number, document: unknown): Buffer {
  return Buffer.from(`outpost-policy-v1\n${version}\n${canonicalJson(document)}`, 'utf8');
}

/** Signs a policy version with the gateway's Ed25519 private key. */
export function signPolicy(privateKey: crypto.KeyObject, version: number, document: unknown): SignedPolicy {
  const signature = crypto.sign(null, signedBytes(version, document), privateKey).toString('base64');
  return { version, document, signature };
}

/** True only when `signed` carries a valid signature by `publicKey` (never throws on bad input). */
export function verifyPolicySignature(publicKey: crypto.KeyObject, signed: SignedPolicy): boolean {
  try {
    if (publicKey.asymmetricKeyType !== 'ed25519') return false;
    return crypto.verify(null, signedBytes(signed.version, signed.document), publicKey, Buffer.from(signed.signature, 'base64'));
  } catch {
    return false;
  }
}
