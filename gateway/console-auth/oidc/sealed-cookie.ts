/**
 * A short-lived login-state cookie the browser carries from the sign-in start to the identity
 * provider's callback: sealed with AES-256-GCM (private and tamper-proof), under a key derived from
 * the admin token so that every replica of the gateway (which share that token) can open it, and
 * with its own expiry inside the seal.
 */
import crypto from 'node:crypto';
import type { z } from 'zod';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Seals and opens values of one schema. */
export class SealedCookie<S extends z.ZodType> {
  private readonly key: Buffer;

  constructor(
    secret: string,
    purpose: string,
    private readonly schema: S,
  ) {
    this.key = Buffer.from(crypto.hkdfSync('sha256', secret, 'outpost-gateway', purpose, 32));
  }

  /** The sealed text (base64url) of `value`, valid until `expiresAt` (ms since the epoch). */
  seal(value: z.infer<S>, expiresAt: number): string {
    const iv = crypto.randomBytes(IV_BYTES);
    const cipher = crypto.createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify({ v: value, exp: expiresAt }), 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  /** The value, or null when the text was not sealed here, was altered, or has expired. */
  open(text: string, now = Date.now()): z.infer<S> | null {
    const raw = Buffer.from(text, 'base64url');
    if (raw.length <= IV_BYTES + TAG_BYTES) return null;
    try {
      const decipher = crypto.createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, IV_BYTES));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      const plain = Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
      const { v, exp } = JSON.parse(plain) as { v: unknown; exp: number };
      if (typeof exp !== 'number' || exp <= now) return null;
      const parsed = this.schema.safeParse(v);
      return parsed.success ? (parsed.data as z.infer<S>) : null;
    } catch {
      return null;
    }
  }
}
