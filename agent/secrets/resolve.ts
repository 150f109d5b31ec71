/**
 * Resolving secret references from policy (`keychain:NAME`) to their values, for the gateway core
 * that swaps a virtual key for the provider key. Values are stored by `outpost secret set NAME`
 * under the keychain entry `secret:NAME`.
 *
 * Resolved values are cached for a minute: a keychain lookup is a D-Bus (or XPC, or RPC) round trip
 * of a few milliseconds, too slow to pay on every request. A `secret set` from another process is
 * therefore seen within that minute; the agent itself calls `forget` after writing.
 */
import { SECRET_REF } from '../../shared/schema/common.js';
import type { Keychain } from '../system/keychain.js';
import { OutpostError } from '../../shared/errors.js';

/** The keychain entry name of secret `name`. */
export function secretEntry(name: string): string {
  return `secret:${name}`;
}

/** How long a resolved value is reused before asking the keychain again. */
export const SECRET_CACHE_MS = 60_000;

/** Resolves `keychain:NAME` references. */
export interface SecretResolver {
  /** The secret's value, or null when it is not set. A reference of another form is an error. */
  resolve(ref: string): Promise<string | null>;
  /** Drops a cached value (after `set` or `delete`). */
  forget(name: string): void;
}

/** A typed error for a reference that is not `keychain:NAME`. */
export class SecretRefError extends OutpostError<'SECRET_REF_INVALID'> {
  constructor(message: string) {
    super('SECRET_REF_INVALID', message);
    this.name = 'SecretRefError';
  }
}

/** Builds a resolver over `keychain`. */
export function createSecretResolver(keychain: Keychain, now: () => number = Date.now): SecretResolver {
  const cache = new Map<string, { value: string | null; until: number }>();
  return {
    async resolve(ref) {
      const name = SECRET_REF.exec(ref)?.[1];
      if (name === undefined) throw new SecretRefError(`"${ref}" is not a secret reference: expected "keychain:NAME"`);
      const hit = cache.get(name);
      if (hit && hit.until > now()) return hit.value;
      const value = await keychain.get(secretEntry(name));
      cache.set(name, { value, until: now() + SECRET_CACHE_MS });
      return value;
    },
    forget(name) {
      cache.delete(name);
    },
  };
}
