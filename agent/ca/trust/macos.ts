/**
 * macOS: the System keychain, trusted as a root for every user. `security add-trusted-cert` there
 * needs interactive admin authorisation on macOS 11+, even as root, so managed fleets push the root
 * with an MDM profile (`com.apple.security.root` payload, `outpost mdm`) and this path serves
 * standalone users at a terminal. Removal is by SHA-1 hash, which cannot hit another certificate.
 */
import type { TrustStore, TrustedCert } from './types.js';
import type { CommandPlan } from '../../system/commands.js';
import { runChecked, runPlan } from './commands.js';

export const SYSTEM_KEYCHAIN = '/Library/Keychains/System.keychain';

/** `security` command plans. */
export const macosPlans = {
  install: (cert: TrustedCert): CommandPlan => ({
    command: 'security',
    args: ['add-trusted-cert', '-d', '-r', 'trustRoot', '-k', SYSTEM_KEYCHAIN, cert.path],
  }),
  /** Trust settings first (they outlive the certificate otherwise), then the certificate by hash. */
  remove: (cert: TrustedCert): CommandPlan[] => [
    { command: 'security', args: ['remove-trusted-cert', '-d', cert.path] },
    { command: 'security', args: ['delete-certificate', '-Z', cert.sha1, SYSTEM_KEYCHAIN] },
  ],
  /** Lists the keychain's certificates with their SHA-1 hashes, to find ours. */
  list: (): CommandPlan => ({ command: 'security', args: ['find-certificate', '-a', '-Z', SYSTEM_KEYCHAIN] }),
};

/** The macOS System keychain store. */
export function macosStore(): TrustStore {
  return {
    id: 'macos-system',
    description: `macOS System keychain (${SYSTEM_KEYCHAIN}); needs admin authorisation, MDM pushes it on managed Macs`,
    async isTrusted(cert) {
      const listed = await runPlan(macosPlans.list());
      return listed.code === 0 && listed.stdout.toUpperCase().includes(`SHA-1 HASH: ${cert.sha1}`);
    },
    async install(cert) {
      await runChecked(macosPlans.install(cert));
    },
    // The keychain holds any number of ours side by side; install does not remove the old one either.
    trustBeside(cert) {
      return this.install(cert);
    },
    async remove(cert) {
      const [untrust, remove] = macosPlans.remove(cert);
      if (untrust) await runPlan(untrust); // absent trust settings are not an error
      if (remove) await runPlan(remove);
    },
  };
}
