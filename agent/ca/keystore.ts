/**
 * Where the CA keys live: entries in the keychain (agent/system/keychain.ts), PKCS#8 PEM. The
 * private key never goes to a plain file unless the keychain is unavailable, and then the keychain
 * module's 0600 fallback is used and reported.
 */
import type { Keychain } from '../system/keychain.js';
import { keyFromPem, type KeyMaterial } from './keys.js';
import { CaError } from './errors.js';

/** Keychain entry names of the CA keys. */
export const KeyName = {
  root: 'ca-root-key',
  device: 'ca-device-key',
} as const;
export type KeyName = (typeof KeyName)[keyof typeof KeyName];

/** Reads and writes CA keys through a keychain. */
export class KeyStore {
  constructor(readonly keychain: Keychain) {}

  /** The stored key, or null when there is none. */
  async load(name: KeyName): Promise<KeyMaterial | null> {
    const pem = await this.keychain.get(name);
    if (pem === null) return null;
    try {
      return keyFromPem(pem);
    } catch (err) {
      throw new CaError('CA_CORRUPT', `the stored key "${name}" is not a private key`, { cause: err });
    }
  }

  save(name: KeyName, key: KeyMaterial): Promise<void> {
    return this.keychain.set(name, key.privatePem);
  }

  delete(name: KeyName): Promise<boolean> {
    return this.keychain.delete(name);
  }
}
