import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import { openKeychain } from '../../../agent/system/keychain.js';
import { KeyStore } from '../../../agent/ca/keystore.js';
import { RootAuthority } from '../../../agent/ca/root-authority.js';
import { createSecretResolver } from '../../../agent/secrets/resolve.js';
import { tempDir } from '../ca/fixtures.js';
import { runOutpost } from '../../support/cli.js';

// Run through `bash scripts/test.sh`: a private D-Bus session with an unlocked GNOME keyring.
const inKeyring = process.env.OUTPOST_KEYRING === 'secret-service';

async function listFiles(dir: string): Promise<string[]> {
  return fs.readdir(dir, { recursive: true }).catch(() => []);
}


describe('keychain', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    tmp = await tempDir('outpost-keychain-');
  });
  afterAll(async () => tmp?.cleanup());

  it.runIf(inKeyring)('stores, reads and deletes entries in the Secret Service, scoped to the agent home', async () => {
    const a = await openKeychain({ home: path.join(tmp.dir, 'a'), mode: 'auto' });
    const b = await openKeychain({ home: path.join(tmp.dir, 'b'), mode: 'auto' });
    expect(a.backend).toBe('keychain');
    expect(a.description).toContain('Secret Service');
    await a.set('probe-entry', 'value-a');
    expect(await a.get('probe-entry')).toBe('value-a');
    expect(await b.get('probe-entry')).toBeNull();
    expect(await a.delete('probe-entry')).toBe(true);
    expect(await a.get('probe-entry')).toBeNull();
    expect(await listFiles(path.join(tmp.dir, 'a'))).toEqual([]);
  });

  it.runIf(inKeyring)('keeps the CA root key in the keychain, never in a file, and reopens the same root', async () => {
    const home = path.join(tmp.dir, 'ca');
    const keys = new KeyStore(await openKeychain({ home, mode: 'keychain' }));
    const first = await RootAuthority.open({ home, keys, constrainTo: ['api.openai.com'] });
    expect(first.opened).toBe('created');
    const again = await RootAuthority.open({ home, keys, constrainTo: ['api.openai.com'] });
    expect(again.opened).toBe('unchanged');
    expect(again.ca.certPem).toBe(first.ca.certPem);
    const files = await listFiles(home);
    expect(files.sort()).toEqual(['ca', 'ca/root.pem']);
    const pem = await fs.readFile(path.join(home, 'ca', 'root.pem'), 'utf8');
    expect(pem).not.toContain('PRIVATE KEY');
    await keys.delete('ca-root-key');
  });

  it.runIf(inKeyring)('`outpost secret set` stores stdin in the keychain for `keychain:NAME`, `delete` removes it', async () => {
    const home = path.join(tmp.dir, 'cli');
    const env = { OUTPOST_HOME: home };
    const set = await runOutpost(['secret', 'set', 'openai-prod'], env, 'sk-test-123\n');
    expect(set.stderr).toBe('');
    expect(set.stdout).toContain('Secret Service');
    const resolver = createSecretResolver(await openKeychain({ home, mode: 'auto' }));
    expect(await resolver.resolve('keychain:openai-prod')).toBe('sk-test-123');
    const del = await runOutpost(['secret', 'delete', 'openai-prod'], env);
    expect(del.code).toBe(0);
    resolver.forget('openai-prod');
    expect(await resolver.resolve('keychain:openai-prod')).toBeNull();
    expect((await runOutpost(['secret', 'delete', 'openai-prod'], env)).code).toBe(1);
  });

  it('falls back to 0600 files in a 0700 folder, and says it is weaker', async () => {
    const home = path.join(tmp.dir, 'file');
    const kc = await openKeychain({ home, mode: 'file' });
    expect(kc.backend).toBe('file');
    expect(kc.description).toMatch(/weaker/);
    await kc.set('ca-root-key', 'secret-bytes');
    const [entry] = await fs.readdir(path.join(home, 'keys'));
    const st = await fs.stat(path.join(home, 'keys', entry ?? ''));
    expect(st.mode & 0o777).toBe(0o600);
    expect((await fs.stat(path.join(home, 'keys'))).mode & 0o777).toBe(0o700);
    expect(await kc.get('ca-root-key')).toBe('secret-bytes');
    expect(await kc.delete('ca-root-key')).toBe(true);
    expect(await kc.get('ca-root-key')).toBeNull();
  });

  it('refuses references that are not keychain:NAME', async () => {
    const resolver = createSecretResolver(await openKeychain({ home: path.join(tmp.dir, 'ref'), mode: 'file' }));
    await expect(resolver.resolve('env:OPENAI_KEY')).rejects.toMatchObject({ code: 'SECRET_REF_INVALID' });
  });
});
