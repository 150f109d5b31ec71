import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import fs from 'node:fs/promises';
import { tempDir } from './fixtures.js';
import { runOutpost } from '../../support/cli.js';


describe('outpost ca', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    tmp = await tempDir('outpost-ca-cli-');
    await fs.mkdir(path.join(tmp.dir, 'user'));
    env = { OUTPOST_HOME: path.join(tmp.dir, 'home'), HOME: path.join(tmp.dir, 'user'), OUTPOST_KEYRING: 'file' };
  });
  afterAll(async () => tmp?.cleanup());

  it('path prints the root it created, show describes it (name-constrained to the default policy hosts)', async () => {
    const p = await runOutpost(['ca', 'path'], env);
    expect(p.stdout.trim()).toBe(path.join(tmp.dir, 'home', 'ca', 'root.pem'));
    const show = JSON.parse((await runOutpost(['ca', 'show', '--json'], env)).stdout) as { subject: string; nameConstraints: string[] };
    expect(show.subject).toMatch(/O=Outpost, OU=device .+, CN=Outpost local CA [0-9a-f]{8}/);
    expect(show.nameConstraints).toContain('api.openai.com');
    expect(show.nameConstraints).toContain('openai.azure.com');
  });

  it('trust --user-only, status and rotate keep the NSS database in step; status reports the weaker file key store', async () => {
    expect((await runOutpost(['ca', 'trust', '--user-only'], env)).code).toBe(0);
    type Status = { keyStore: { weaker: boolean }; stores: Array<{ store: string; trusted: boolean }> };
    const nss = (s: Status): boolean | undefined => s.stores.find((x) => x.store.startsWith('nss:'))?.trusted;
    const before = JSON.parse((await runOutpost(['ca', 'status', '--json'], env)).stdout) as Status;
    expect(before.keyStore.weaker).toBe(true);
    expect(nss(before)).toBe(true);
    const rotated = JSON.parse((await runOutpost(['ca', 'rotate', '--json'], env)).stdout) as { before: string; after: string };
    expect(rotated.after).not.toBe(rotated.before);
    expect(nss(JSON.parse((await runOutpost(['ca', 'status', '--json'], env)).stdout) as Status)).toBe(true);
  });
});
