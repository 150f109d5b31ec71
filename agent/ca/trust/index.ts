/**
 * The trust stores of this machine, and installing into / removing from all of them at once. Each
 * store reports on its own: one that fails (no admin rights for the system bundle) does not stop
 * the others, and the result says which.
 */
import os from 'node:os';
import type { TrustStore, TrustedCert } from './types.js';
import { detectLinuxLayout, linuxSystemStore } from './linux-system.js';
import { nssDatabases, nssStore } from './nss.js';
import { macosStore } from './macos.js';
import { windowsIsAdmin, windowsStore } from './windows.js';

export interface TrustStoreOptions {
  readonly platform?: NodeJS.Platform;
  /** The user's home, where NSS databases live (tests pass a temporary one). */
  readonly userHome?: string;
  /** Include the system store (root/admin rights); false for per-user stores only. */
  readonly system?: boolean;
  /** Root of the file system for Linux layout detection (tests only). */
  readonly fsRoot?: string;
}

/** The trust stores to use on this machine. */
export async function trustStores(options: TrustStoreOptions = {}): Promise<TrustStore[]> {
  const platform = options.platform ?? process.platform;
  const system = options.system ?? true;
  switch (platform) {
    case 'linux': {
      const stores: TrustStore[] = [];
      const layout = system ? await detectLinuxLayout(options.fsRoot) : null;
      if (layout) stores.push(linuxSystemStore(layout));
      for (const dir of await nssDatabases(options.userHome ?? os.homedir())) stores.push(nssStore(dir));
      return stores;
    }
    case 'darwin':
      return system ? [macosStore()] : [];
    case 'win32':
      return [windowsStore(await windowsIsAdmin())];
    default:
      return [];
  }
}

/** What one store did. */
export interface StoreOutcome {
  readonly store: string;
  readonly description: string;
  readonly ok: boolean;
  /** For status: whether the certificate is trusted there now. */
  readonly trusted?: boolean;
  readonly error?: string;
}

async function each(stores: readonly TrustStore[], act: (s: TrustStore) => Promise<boolean | undefined>): Promise<StoreOutcome[]> {
  const out: StoreOutcome[] = [];
  // One at a time: update-ca-certificates and certutil each lock their store, and order is readable.
  for (const store of stores) {
    try {
      const trusted = await act(store);
      out.push({ store: store.id, description: store.description, ok: true, ...(trusted === undefined ? {} : { trusted }) });
    } catch (err) {
      out.push({ store: store.id, description: store.description, ok: false, error: (err as Error).message });
    }
  }
  return out;
}

/** Installs `cert` into every store. */
export function trustEverywhere(cert: TrustedCert, stores: readonly TrustStore[]): Promise<StoreOutcome[]> {
  return each(stores, async (s) => {
    await s.install(cert);
    return true;
  });
}

/** Removes ours from every store. */
export function untrustEverywhere(cert: TrustedCert, stores: readonly TrustStore[]): Promise<StoreOutcome[]> {
  return each(stores, async (s) => {
    await s.remove(cert);
    return false;
  });
}

/** Whether `cert` is trusted in each store. */
export function trustStatus(cert: TrustedCert, stores: readonly TrustStore[]): Promise<StoreOutcome[]> {
  return each(stores, (s) => s.isTrusted(cert));
}
