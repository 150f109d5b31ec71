/**
 * Windows: the Root store through `certutil`. As an administrator, LocalMachine\Root (every user,
 * every service); otherwise CurrentUser\Root (`-user`, where Windows asks the user to confirm).
 * Intune pushes it with a trusted-certificate profile on managed fleets. Removal is by thumbprint.
 */
import type { TrustStore, TrustedCert } from './types.js';
import type { CommandPlan } from '../../system/commands.js';
import { runChecked, runPlan } from './commands.js';

const scope = (admin: boolean): string[] => (admin ? [] : ['-user']);

/** `certutil` command plans; `admin` picks LocalMachine over CurrentUser. */
export const windowsPlans = {
  install: (cert: TrustedCert, admin: boolean): CommandPlan => ({ command: 'certutil', args: [...scope(admin), '-addstore', '-f', 'Root', cert.path] }),
  remove: (cert: TrustedCert, admin: boolean): CommandPlan => ({ command: 'certutil', args: [...scope(admin), '-delstore', 'Root', cert.sha1] }),
  show: (cert: TrustedCert, admin: boolean): CommandPlan => ({ command: 'certutil', args: [...scope(admin), '-store', 'Root', cert.sha1] }),
  /** `net session` succeeds only in an elevated process: the usual admin test without extra tools. */
  isAdmin: (): CommandPlan => ({ command: 'net', args: ['session'] }),
};

/** Whether this process runs elevated. */
export async function windowsIsAdmin(): Promise<boolean> {
  return (await runPlan(windowsPlans.isAdmin()).catch(() => ({ code: 1 }))).code === 0;
}

/** The Windows Root store (LocalMachine when `admin`, else CurrentUser). */
export function windowsStore(admin: boolean): TrustStore {
  return {
    id: admin ? 'windows-localmachine-root' : 'windows-currentuser-root',
    description: admin ? 'Windows LocalMachine Root store (all users)' : 'Windows CurrentUser Root store (this user; run as administrator for all users)',
    async isTrusted(cert) {
      return (await runPlan(windowsPlans.show(cert, admin))).code === 0;
    },
    async install(cert) {
      await runChecked(windowsPlans.install(cert, admin));
    },
    // The Root store holds any number of ours side by side (keyed by thumbprint).
    trustBeside(cert) {
      return this.install(cert);
    },
    async remove(cert) {
      await runPlan(windowsPlans.remove(cert, admin));
    },
  };
}
