/** Bearer tokens: reading the header and comparing in constant time. */
import crypto from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** The token of an `Authorization: Bearer …` header, or null. */
export function bearerToken(headers: IncomingHttpHeaders): string | null {
  const value = headers.authorization;
  if (typeof value !== 'string') return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(value);
  return m?.[1] ?? null;
}

/**
 * True when `given` equals `expected`, in time that does not depend on where they differ. Both are
 * hashed first so that unequal lengths take the same path (timingSafeEqual needs equal lengths).
 */
export function tokensEqual(expected: string, given: string): boolean {
  const a = crypto.createHash('sha256').update(expected).digest();
  const b = crypto.createHash('sha256').update(given).digest();
  return crypto.timingSafeEqual(a, b);
}

/** Hex SHA-256 of a secret: what the store keeps of tokens and credentials. */
export function secretHash(secret: string): string {
  return crypto.createHash('sha256').update(secret).digest('hex');
}

/** A new random secret with a readable prefix (`opt_` enrollment token, `opd_` device credential). */
export function newSecret(prefix: string): string {
  return `${prefix}${crypto.randomBytes(32).toString('base64url')}`;
}
