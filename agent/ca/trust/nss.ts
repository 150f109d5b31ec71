/**
 * NSS databases: Chromium on Linux reads `~/.pki/nssdb`, Firefox its profile's `cert9.db`
 * (deb and snap installs). Installed with `certutil -A -t "C,,"` (trusted to issue server
 * certificates), verified headless as root (FIELD-NOTES "Certificates"); removed by nickname.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';
import type { TrustStore, TrustedCert } from './types.js';
import { runChecked, runPlan, type CommandPlan } from './commands.js';

/** `sql:` selects the SQLite format (cert9.db), the only one current NSS writes. */
const db = (dir: string): string => `sql:${dir}`;

/** certutil command plans for one database. */
export const nssPlans = {
  create: (dir: string): CommandPlan => ({ command: 'certutil', args: ['-N', '-d', db(dir), '--empty-password'] }),
  add: (dir: string, cert: TrustedCert): CommandPlan => ({ command: 'certutil', args: ['-A', '-d', db(dir), '-t', 'C,,', '-n', cert.label, '-i', cert.path] }),
  remove: (dir: string, cert: TrustedCert): CommandPlan => ({ command: 'certutil', args: ['-D', '-d', db(dir), '-n', cert.label] }),
  show: (dir: string, cert: TrustedCert): CommandPlan => ({ command: 'certutil', args: ['-L', '-d', db(dir), '-n', cert.label, '-a'] }),
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

/** A store over one NSS database folder. */
export function nssStore(dir: string): TrustStore {
  return {
    id: `nss:${dir}`,
    description: `NSS database ${dir} (${dir.includes('.mozilla') ? 'Firefox' : 'Chromium and other NSS applications'})`,
    async isTrusted(cert) {
      if (!(await exists(path.join(dir, 'cert9.db')))) return false;
      const shown = await runPlan(nssPlans.show(dir, cert));
      if (shown.code !== 0) return false;
      try {
        return new X509Certificate(shown.stdout).fingerprint === new X509Certificate(cert.pem).fingerprint;
      } catch {
        return false;
      }
    },
    async install(cert) {
      if (!(await exists(path.join(dir, 'cert9.db')))) {
        await fs.mkdir(dir, { recursive: true, mode: 0o700 });
        await runChecked(nssPlans.create(dir));
      }
      await removeAll(dir, cert);
      await runChecked(nssPlans.add(dir, cert));
    },
    async remove(cert) {
      if (await exists(path.join(dir, 'cert9.db'))) await removeAll(dir, cert);
    },
  };
}

/** Deletes every certificate with our nickname (an older root shares it after a rotation). */
async function removeAll(dir: string, cert: TrustedCert): Promise<void> {
  // Bounded: a database holds at most a few of ours; the bound only guards against a loop.
  for (let i = 0; i < 16; i++) {
    if ((await runPlan(nssPlans.remove(dir, cert))).code !== 0) return;
  }
}
