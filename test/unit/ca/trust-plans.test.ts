import { describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import { macosPlans, SYSTEM_KEYCHAIN } from '../../../agent/ca/trust/macos.js';
import { windowsPlans } from '../../../agent/ca/trust/windows.js';
import { nssPlans } from '../../../agent/ca/trust/nss.js';
import { detectLinuxLayout } from '../../../agent/ca/trust/linux-system.js';
import { trustStores } from '../../../agent/ca/trust/index.js';
import type { TrustedCert } from '../../../agent/ca/trust/types.js';
import { tempDir } from '../../integration/ca/fixtures.js';

const cert: TrustedCert = { pem: '', path: '/home/u/.outpost/ca/root.pem', label: 'outpost-0123456789ab', sha1: 'AB'.repeat(20) };

describe('trust command plans', () => {
  it('macOS: trusts as root in the System keychain, removes trust settings then the certificate by hash', () => {
    expect(macosPlans.install(cert)).toEqual({ command: 'security', args: ['add-trusted-cert', '-d', '-r', 'trustRoot', '-k', '/Library/Keychains/System.keychain', cert.path] });
    expect(macosPlans.remove(cert)).toEqual([
      { command: 'security', args: ['remove-trusted-cert', '-d', cert.path] },
      { command: 'security', args: ['delete-certificate', '-Z', cert.sha1, SYSTEM_KEYCHAIN] },
    ]);
  });

  it('Windows: LocalMachine Root as admin, CurrentUser Root otherwise, removal by thumbprint', () => {
    expect(windowsPlans.install(cert, true)).toEqual({ command: 'certutil', args: ['-addstore', '-f', 'Root', cert.path] });
    expect(windowsPlans.install(cert, false)).toEqual({ command: 'certutil', args: ['-user', '-addstore', '-f', 'Root', cert.path] });
    expect(windowsPlans.remove(cert, true)).toEqual({ command: 'certutil', args: ['-delstore', 'Root', cert.sha1] });
    expect(windowsPlans.remove(cert, false)).toEqual({ command: 'certutil', args: ['-user', '-delstore', 'Root', cert.sha1] });
  });

  it('NSS: trusted for server certificates ("C,,") in the SQLite database, removed by nickname', () => {
    expect(nssPlans.add('/h/.pki/nssdb', cert).args).toEqual(['-A', '-d', 'sql:/h/.pki/nssdb', '-t', 'C,,', '-n', cert.label, '-i', cert.path]);
    expect(nssPlans.remove('/h/.pki/nssdb', cert).args).toEqual(['-D', '-d', 'sql:/h/.pki/nssdb', '-n', cert.label]);
  });
});

describe('Linux layout detection', () => {
  it('detects the Debian and Fedora layouts by their anchor folders', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      expect(await detectLinuxLayout(dir)).toBeNull();
      await fs.mkdir(path.join(dir, 'etc/pki/ca-trust/source/anchors'), { recursive: true });
      const fedora = await detectLinuxLayout(dir);
      expect(fedora?.family).toBe('fedora');
      expect(fedora?.update).toEqual({ command: 'update-ca-trust', args: ['extract'] });
      expect(fedora?.bundle).toBe(path.join(dir, 'etc/pki/tls/certs/ca-bundle.crt'));
      await fs.mkdir(path.join(dir, 'usr/local/share/ca-certificates'), { recursive: true });
      const debian = await detectLinuxLayout(dir);
      expect(debian?.family).toBe('debian');
      expect(debian?.updateAfterRemove).toEqual({ command: 'update-ca-certificates', args: ['--fresh'] });
    } finally {
      await cleanup();
    }
  });

  it('lists the user NSS database and every Firefox profile (deb and snap)', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      for (const p of ['.mozilla/firefox/abc.default-release', 'snap/firefox/common/.mozilla/firefox/xyz.default']) {
        await fs.mkdir(path.join(dir, p), { recursive: true });
        await fs.writeFile(path.join(dir, p, 'cert9.db'), '');
      }
      await fs.mkdir(path.join(dir, '.mozilla/firefox/no-db-here'), { recursive: true });
      const stores = await trustStores({ platform: 'linux', userHome: dir, system: false });
      expect(stores.map((s) => s.id)).toEqual([
        `nss:${path.join(dir, '.pki/nssdb')}`,
        `nss:${path.join(dir, '.mozilla/firefox/abc.default-release')}`,
        `nss:${path.join(dir, 'snap/firefox/common/.mozilla/firefox/xyz.default')}`,
      ]);
    } finally {
      await cleanup();
    }
  });
});
