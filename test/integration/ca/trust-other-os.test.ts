import { describe, expect, it } from 'vitest';
import path from 'node:path';
import fs from 'node:fs/promises';
import { RootAuthority } from '../../../agent/ca/root-authority.js';
import { trustedCert } from '../../../agent/ca/trust/types.js';
import { macosStore } from '../../../agent/ca/trust/macos.js';
import { windowsIsAdmin, windowsStore } from '../../../agent/ca/trust/windows.js';
import { fileKeys, tempDir } from './fixtures.js';

// Where the OS exists, the read-only half runs for real (installing needs an admin prompt on macOS
// and changes the machine's Root store on Windows, so it is left to a person or to MDM).
async function freshCert() {
  const tmp = await tempDir();
  const root = await RootAuthority.open({ home: tmp.dir, keys: await fileKeys(tmp.dir), constrainTo: ['api.openai.com'] });
  await fs.access(path.join(tmp.dir, 'ca', 'root.pem'));
  return { cert: trustedCert(root.ca.certPem, root.certPath, tmp.dir), cleanup: tmp.cleanup };
}

describe.runIf(process.platform === 'darwin')('macOS System keychain', () => {
  it('reports a fresh root as not trusted', async () => {
    const { cert, cleanup } = await freshCert();
    try {
      expect(await macosStore().isTrusted(cert)).toBe(false);
    } finally {
      await cleanup();
    }
  });
});

describe.runIf(process.platform === 'win32')('Windows Root store', () => {
  it('reports a fresh root as not trusted', async () => {
    const { cert, cleanup } = await freshCert();
    try {
      expect(await windowsStore(await windowsIsAdmin()).isTrusted(cert)).toBe(false);
    } finally {
      await cleanup();
    }
  });
});
