/**
 * The OS keychain, for CA keys and provider secrets: keytar (Secret Service on Linux, Keychain on
 * macOS, Credential Manager on Windows). Where no keychain works (a headless server without a
 * Secret Service), a folder of files readable only by the owner (0600 in a 0700 folder) stands in,
 * and says so: `backend` is `file` and status reports it as weaker, because any process running as
 * the user (or root, or a backup) can read a plain file, while a keychain ties access to the session.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { OutpostError } from '../../shared/errors.js';

/** Where secrets are kept. */
export type KeychainBackend = 'keychain' | 'file';

/** A secret store scoped to one agent home (two agents on one machine do not share entries). */
export interface Keychain {
  readonly backend: KeychainBackend;
  /** A sentence for status: which store, and why when it is the weaker file fallback. */
  readonly description: string;
  get(name: string): Promise<string | null>;
  set(name: string, value: string): Promise<void>;
  /** Resolves true when an entry was removed. */
  delete(name: string): Promise<boolean>;
}

/** Which store to use: the config's `ca.keyStore`. */
export type KeychainMode = 'auto' | 'keychain' | 'file';

export interface OpenKeychainOptions {
  /** The agent home; entries are scoped to it and the file fallback lives under it. */
  readonly home: string;
  readonly mode: KeychainMode;
  /** `OUTPOST_KEYRING=file` forces the file fallback in `auto` mode (CI without a Secret Service). */
  readonly env?: NodeJS.ProcessEnv;
}

/** A keychain that cannot be opened in `keychain` mode. */
export class KeychainError extends OutpostError<'KEYCHAIN_UNAVAILABLE'> {
  constructor(message: string, options?: ErrorOptions) {
    super('KEYCHAIN_UNAVAILABLE', message, options);
    this.name = 'KeychainError';
  }
}

const SERVICE = 'outpost';
/**
 * How long the first keychain call may take before the keychain counts as absent: libsecret can
 * wait on D-Bus activation of a daemon that never comes (seen on minimal Linux sessions).
 */
const PROBE_TIMEOUT_MS = 5000;

interface Keytar {
  getPassword(service: string, account: string): Promise<string | null>;
  setPassword(service: string, account: string, password: string): Promise<void>;
  deletePassword(service: string, account: string): Promise<boolean>;
}

/** Opens the keychain for `home`: the OS keychain when it works, else (in `auto`) the file fallback. */
export async function openKeychain(options: OpenKeychainOptions): Promise<Keychain> {
  const env = options.env ?? process.env;
  const forceFile = options.mode === 'file' || (options.mode === 'auto' && env.OUTPOST_KEYRING === 'file');
  if (forceFile) return fileKeychain(options.home, options.mode === 'file' ? 'the config asks for the file key store' : 'OUTPOST_KEYRING=file');
  const probe = await probeKeytar();
  if (probe.ok) return osKeychain(probe.keytar, options.home);
  if (options.mode === 'keychain') throw new KeychainError(`the OS keychain is not available: ${probe.reason}`);
  return fileKeychain(options.home, `the OS keychain is not available (${probe.reason})`);
}

async function probeKeytar(): Promise<{ ok: true; keytar: Keytar } | { ok: false; reason: string }> {
  try {
    const mod = (await import('keytar')) as unknown as { default?: Keytar } & Keytar;
    const keytar = mod.default ?? mod;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer in ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS);
    });
    try {
      await Promise.race([keytar.getPassword(SERVICE, 'probe'), timeout]);
    } finally {
      clearTimeout(timer);
    }
    return { ok: true, keytar };
  } catch (err) {
    return { ok: false, reason: (err as Error).message.split('\n')[0] ?? 'unknown error' };
  }
}

/** keytar has a service and an account; the account carries the home so agents do not collide. */
function account(home: string, name: string): string {
  return `${name}@${home}`;
}

function osKeychain(keytar: Keytar, home: string): Keychain {
  return {
    backend: 'keychain',
    description: `OS keychain (${process.platform === 'darwin' ? 'macOS Keychain' : process.platform === 'win32' ? 'Windows Credential Manager' : 'Secret Service'})`,
    get: (name) => keytar.getPassword(SERVICE, account(home, name)),
    set: (name, value) => keytar.setPassword(SERVICE, account(home, name), value),
    delete: (name) => keytar.deletePassword(SERVICE, account(home, name)),
  };
}

/** Entry names become file names through a hash, so no name can escape the folder. */
function fileName(dir: string, name: string): string {
  const safe = name.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64);
  return path.join(dir, `${safe}-${createHash('sha256').update(name).digest('hex').slice(0, 12)}`);
}

function fileKeychain(home: string, reason: string): Keychain {
  const dir = path.join(home, 'keys');
  return {
    backend: 'file',
    description: `files readable only by this user in ${dir} (weaker than a keychain: ${reason})`,
    async get(name) {
      try {
        return await fs.readFile(fileName(dir, name), 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw err;
      }
    },
    async set(name, value) {
      await fs.mkdir(dir, { recursive: true, mode: 0o700 });
      const target = fileName(dir, name);
      const tmp = `${target}.${process.pid}.tmp`;
      // Created 0600 from the start (never readable by others, not even between write and chmod).
      await fs.writeFile(tmp, value, { mode: 0o600 });
      await fs.rename(tmp, target);
    },
    async delete(name) {
      try {
        await fs.unlink(fileName(dir, name));
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
        throw err;
      }
    },
  };
}
