/** Temporary homes and a file-backed key store for CA tests (the keychain tests use the real one). */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { openKeychain } from '../../../agent/system/keychain.js';
import { KeyStore } from '../../../agent/ca/keystore.js';

export const run = promisify(execFile);

/** A fresh temporary folder; removed by the returned cleanup. */
export async function tempDir(prefix = 'outpost-ca-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => fs.rm(dir, { recursive: true, force: true }) };
}

/** A key store over the 0600 file fallback in `home`. */
export async function fileKeys(home: string): Promise<KeyStore> {
  return new KeyStore(await openKeychain({ home, mode: 'file' }));
}

/** Runs `openssl verify -x509_strict` of `leafPem` (plus untrusted `chainPem`) against `rootPem`. */
export async function opensslVerify(dir: string, rootPem: string, leafPem: string, chainPem = ''): Promise<{ ok: boolean; output: string }> {
  const root = path.join(dir, `root-${Math.random().toString(16).slice(2)}.pem`);
  const leaf = path.join(dir, `leaf-${Math.random().toString(16).slice(2)}.pem`);
  await fs.writeFile(root, rootPem);
  await fs.writeFile(leaf, leafPem);
  const args = ['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', root];
  if (chainPem) {
    const chain = path.join(dir, `chain-${Math.random().toString(16).slice(2)}.pem`);
    await fs.writeFile(chain, chainPem);
    args.push('-untrusted', chain);
  }
  args.push(leaf);
  try {
    const { stdout, stderr } = await run('openssl', args);
    return { ok: true, output: stdout + stderr };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}
