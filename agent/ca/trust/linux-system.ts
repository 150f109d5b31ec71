/**
 * The Linux system trust store: an anchor file plus the distribution's update tool, which rebuilds
 * the bundle OpenSSL, curl, git, Python and most CLIs read (FIELD-NOTES "Certificates"):
 * Debian family `/usr/local/share/ca-certificates/*.crt` + `update-ca-certificates`,
 * Fedora family `/etc/pki/ca-trust/source/anchors/` + `update-ca-trust extract`. Needs root.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { trustSlots, type TrustStore, type TrustedCert } from './types.js';
import type { CommandPlan } from '../../system/commands.js';
import { runChecked } from './commands.js';

/** Where a distribution keeps its anchors and how it rebuilds its bundle. */
export interface LinuxLayout {
  readonly family: 'debian' | 'fedora';
  readonly anchorDir: string;
  readonly update: CommandPlan;
  /** The rebuild after an anchor was deleted. */
  readonly updateAfterRemove: CommandPlan;
  /** The bundle the update writes (read by the combined bundle too). */
  readonly bundle: string;
}

const LAYOUTS: readonly LinuxLayout[] = [
  {
    family: 'debian',
    anchorDir: '/usr/local/share/ca-certificates',
    update: { command: 'update-ca-certificates', args: [] },
    // Without --fresh the Debian tool rebuilds the bundle but keeps the /etc/ssl/certs links of a
    // deleted local anchor (it only unlinks what ca-certificates.conf deselects): OpenSSL's
    // CApath lookup would still find the link's hash name dangling. --fresh relinks everything.
    updateAfterRemove: { command: 'update-ca-certificates', args: ['--fresh'] },
    bundle: '/etc/ssl/certs/ca-certificates.crt',
  },
  {
    family: 'fedora',
    anchorDir: '/etc/pki/ca-trust/source/anchors',
    update: { command: 'update-ca-trust', args: ['extract'] },
    updateAfterRemove: { command: 'update-ca-trust', args: ['extract'] },
    bundle: '/etc/pki/tls/certs/ca-bundle.crt',
  },
];

async function isDir(p: string): Promise<boolean> {
  return fs.stat(p).then((s) => s.isDirectory(), () => false);
}

/** Detects the layout by its anchor folder, looked up under `root` (tests pass a fake tree). */
export async function detectLinuxLayout(root = '/'): Promise<LinuxLayout | null> {
  for (const layout of LAYOUTS) {
    if (await isDir(path.join(root, layout.anchorDir))) {
      return { ...layout, anchorDir: path.join(root, layout.anchorDir), bundle: path.join(root, layout.bundle) };
    }
  }
  return null;
}

/** The anchor files of ours in `layout`, main slot first (`.crt`: update-ca-certificates ignores other names). */
export function anchorFiles(layout: LinuxLayout, cert: TrustedCert): readonly [string, string] {
  const [main, next] = trustSlots(cert);
  return [path.join(layout.anchorDir, `${main}.crt`), path.join(layout.anchorDir, `${next}.crt`)];
}

async function holds(file: string, cert: TrustedCert): Promise<boolean> {
  const text = await fs.readFile(file, 'utf8').catch(() => null);
  return text !== null && text.trim() === cert.pem.trim();
}

/** The system trust store for `layout`. */
export function linuxSystemStore(layout: LinuxLayout): TrustStore {
  return {
    id: 'linux-system',
    description: `system bundle (${layout.family}: ${layout.anchorDir}, ${layout.update.command}) read by curl, git, OpenSSL, Python`,
    async isTrusted(cert) {
      const [main, next] = anchorFiles(layout, cert);
      return (await holds(main, cert)) || (await holds(next, cert));
    },
    async install(cert) {
      const [main, next] = anchorFiles(layout, cert);
      await fs.writeFile(main, cert.pem, { mode: 0o644 });
      const hadNext = await fs.rm(next).then(() => true, () => false);
      // One rebuild; the bundle file is replaced whole, so a reader sees the old or the new set.
      await runChecked(hadNext ? layout.updateAfterRemove : layout.update);
    },
    async trustBeside(cert) {
      await fs.writeFile(anchorFiles(layout, cert)[1], cert.pem, { mode: 0o644 });
      await runChecked(layout.update);
    },
    async remove(cert) {
      for (const file of anchorFiles(layout, cert)) await fs.rm(file, { force: true });
      await runChecked(layout.updateAfterRemove);
    },
  };
}
