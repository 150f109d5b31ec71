/**
 * NSS databases: Chromium on Linux reads `~/.pki/nssdb`, Firefox its profile's `cert9.db`
 * (deb and snap installs). Installed with `certutil -A -t "C,,"` (trusted to issue server
 * certificates), verified headless as root (FIELD-NOTES "Certificates"); removed by nickname.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';
import { trustSlots, type TrustStore, type TrustedCert } from './types.js';
import type { CommandPlan } from '../../system/commands.js';
import { runChecked, runPlan } from './commands.js';

/** `sql:` selects the SQLite format (cert9.db), the only one current NSS writes. */
const db = (dir: string): string => `sql:${dir}`;

/** certutil command plans for one database; `nickname` defaults to the certificate's label. */
export const nssPlans = {
  create: (dir: string): CommandPlan => ({ command: 'certutil', args: ['-N', '-d', db(dir), '--empty-password'] }),
  add: (dir: string, cert: TrustedCert, nickname = cert.label): CommandPlan => ({ command: 'certutil', args: ['-A', '-d', db(dir), '-t', 'C,,', '-n', nickname, '-i', cert.path] }),
  remove: (dir: string, cert: TrustedCert, nickname = cert.label): CommandPlan => ({ command: 'certutil', args: ['-D', '-d', db(dir), '-n', nickname] }),
  show: (dir: string, cert: TrustedCert, nickname = cert.label): CommandPlan => ({ command: 'certutil', args: ['-L', '-d', db(dir), '-n', nickname, '-a'] }),
};

async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(() => true, () => false);
}

async function profiles(parent: string): Promise<string[]> {
  const entries = await fs.readdir(parent, { withFileTypes: true }).catch(() => []);
  const dirs = entries.filter((e) => e.isDirectory()).map((e) => path.join(parent, e.name));
  const withDb = await Promise.all(dirs.map(async (d) => ((await exists(path.join(d, 'cert9.db'))) ? d : null)));
  return withDb.filter((d): d is string => d !== null);
}

/**
 * The NSS databases of the user whose home is `userHome`: the shared `~/.pki/nssdb` (always
 * listed: `install` creates it, since Chromium reads it once it exists) and every Firefox profile.
 */
export async function nssDatabases(userHome: string): Promise<string[]> {
  const firefox = await Promise.all([
    profiles(path.join(userHome, '.mozilla', 'firefox')),
    profiles(path.join(userHome, 'snap', 'firefox', 'common', '.mozilla', 'firefox')),
  ]);
  return [path.join(userHome, '.pki', 'nssdb'), ...firefox.flat()];
}

/**
 * A store over one NSS database folder. NSS ties a nickname to a subject: a rotated root (another
 * subject) cannot join the old one's nickname, and a certificate keeps the nickname it was added
 * under. So ours live in two slots (`trustSlots`); a rotation stages the new root in the free one,
 * and `install` then clears every slot that holds anything else, wherever the new root sits.
 */
export function nssStore(dir: string): TrustStore {
  const ready = async (): Promise<void> => {
    if (await exists(path.join(dir, 'cert9.db'))) return;
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    await runChecked(nssPlans.create(dir));
  };
  return {
    id: `nss:${dir}`,
    description: `NSS database ${dir} (${dir.includes('.mozilla') ? 'Firefox' : 'Chromium and other NSS applications'})`,
    async isTrusted(cert) {
      if (!(await exists(path.join(dir, 'cert9.db')))) return false;
      for (const slot of trustSlots(cert)) if ((await held(dir, cert, slot)).includes(fingerprint(cert.pem))) return true;
      return false;
    },
    async install(cert) {
      await ready();
      let present = false;
      for (const slot of trustSlots(cert)) {
        const here = await held(dir, cert, slot);
        if (here.length === 1 && here[0] === fingerprint(cert.pem)) present = true;
        else if (here.length > 0) await removeAll(dir, cert, slot);
      }
      if (!present) await runChecked(nssPlans.add(dir, cert));
    },
    async trustBeside(cert) {
      await ready();
      const [main, next] = trustSlots(cert);
      if ((await held(dir, cert, main)).includes(fingerprint(cert.pem))) return;
      // The main slot holds the current root (or nothing): stage in the other one.
      const free = (await held(dir, cert, main)).length === 0 ? main : next;
      await removeAll(dir, cert, free);
      await runChecked(nssPlans.add(dir, cert, free));
    },
    async remove(cert) {
      if (!(await exists(path.join(dir, 'cert9.db')))) return;
      for (const slot of trustSlots(cert)) await removeAll(dir, cert, slot);
    },
  };
}

function fingerprint(pem: string): string {
  return new X509Certificate(pem).fingerprint256;
}

/** SHA-256 fingerprints of the certificates under `nickname` (none when the nickname is unknown). */
async function held(dir: string, cert: TrustedCert, nickname: string): Promise<string[]> {
  const shown = await runPlan(nssPlans.show(dir, cert, nickname));
  if (shown.code !== 0) return [];
  const blocks = shown.stdout.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.flatMap((pem) => {
    try {
      return [fingerprint(pem)];
    } catch {
      return [];
    }
  });
}

/** Deletes every certificate under `nickname` (an older root of the same subject shares it after a re-issue). */
async function removeAll(dir: string, cert: TrustedCert, nickname: string): Promise<void> {
  // Bounded: a database holds at most a few of ours; the bound only guards against a loop.
  for (let i = 0; i < 16; i++) {
    if ((await runPlan(nssPlans.remove(dir, cert, nickname))).code !== 0) return;
  }
}
