import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { RootAuthority } from '../../../agent/ca/root-authority.js';
import { LeafIssuer } from '../../../agent/ca/issuer.js';
import { trustedCert, type TrustedCert, type TrustStore } from '../../../agent/ca/trust/types.js';
import { trustEverywhere, trustStores, untrustEverywhere } from '../../../agent/ca/trust/index.js';
import { detectLinuxLayout, type LinuxLayout } from '../../../agent/ca/trust/linux-system.js';
import { fromPem } from '../../../agent/ca/x509/pem.js';
import { fileKeys, run, tempDir } from './fixtures.js';
import { startTerminator, type Terminator } from './terminator.js';

// Changes the real system bundle (root only), so it always removes its certificate in afterAll.
const layout: LinuxLayout | null = process.platform === 'linux' ? await detectLinuxLayout() : null;
const canRun = layout !== null && process.getuid?.() === 0;
const HOST = 'api.openai.com';

/** curl with no CA flag and no CA variables: only the system bundle decides. */
async function curl(port: number): Promise<{ ok: boolean; body: string }> {
  const env = { ...process.env };
  for (const v of ['CURL_CA_BUNDLE', 'SSL_CERT_FILE', 'SSL_CERT_DIR', 'REQUESTS_CA_BUNDLE']) delete env[v];
  try {
    const { stdout } = await run('curl', ['-sS', '--max-time', '10', '--resolve', `${HOST}:${port}:127.0.0.1`, `https://${HOST}:${port}/`], { env });
    return { ok: true, body: stdout };
  } catch (err) {
    return { ok: false, body: String((err as { stderr?: string }).stderr) };
  }
}

describe.runIf(canRun)('trust on Linux: system bundle and NSS, with real curl and headless Chromium', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let userHome: string;
  let server: Terminator;
  let cert: TrustedCert;
  let stores: TrustStore[];
  let browser: Browser | undefined;

  /** Headless Chromium with HOME = the test's user home, so it reads that NSS database. */
  async function chromiumGet(port: number): Promise<{ ok: boolean; text: string }> {
    await browser?.close();
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      env: { ...process.env, HOME: userHome },
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', `--host-resolver-rules=MAP ${HOST} 127.0.0.1`],
    });
    const page = await browser.newPage();
    try {
      await page.goto(`https://${HOST}:${port}/`, { timeout: 15_000 });
      return { ok: true, text: await page.innerText('body') };
    } catch (err) {
      return { ok: false, text: (err as Error).message };
    }
  }

  beforeAll(async () => {
    tmp = await tempDir('outpost-trust-');
    userHome = path.join(tmp.dir, 'user');
    await fs.mkdir(userHome);
    const home = path.join(tmp.dir, 'agent');
    const root = await RootAuthority.open({ home, keys: await fileKeys(home), constrainTo: [HOST] });
    cert = trustedCert(root.ca.certPem, root.certPath, home);
    stores = await trustStores({ userHome });
    server = await startTerminator(await LeafIssuer.create(root.ca));
  });

  afterAll(async () => {
    if (cert && stores) await untrustEverywhere(cert, stores);
    await browser?.close();
    await server?.close();
    await tmp?.cleanup();
  });

  it('finds the system bundle and the user NSS database', () => {
    expect(stores.map((s) => s.id)).toEqual(['linux-system', `nss:${path.join(userHome, '.pki', 'nssdb')}`]);
  });

  it('before trust: curl and Chromium refuse the intercepted host', async () => {
    const c = await curl(server.port);
    expect(c.ok).toBe(false);
    expect(c.body).toMatch(/certificate/i);
    const b = await chromiumGet(server.port);
    expect(b.ok).toBe(false);
    expect(b.text).toMatch(/ERR_CERT_AUTHORITY_INVALID/);
  });

  it('after trust: curl with no CA flag and headless Chromium accept it', async () => {
    const outcomes = await trustEverywhere(cert, stores);
    expect(outcomes.every((o) => o.ok)).toBe(true);
    for (const s of stores) expect(await s.isTrusted(cert)).toBe(true);
    expect(await curl(server.port)).toEqual({ ok: true, body: `hello ${HOST}:${server.port}` });
    const b = await chromiumGet(server.port);
    expect(b.text).toBe(`hello ${HOST}:${server.port}`);
  });

  it('after untrust: both refuse it again and nothing of ours is left in any store', async () => {
    const outcomes = await untrustEverywhere(cert, stores);
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect((await curl(server.port)).ok).toBe(false);
    expect((await chromiumGet(server.port)).ok).toBe(false);

    const ourDer = fromPem(cert.pem, 'CERTIFICATE')[0];
    const bundle = await fs.readFile(layout?.bundle ?? '', 'utf8');
    expect(fromPem(bundle, 'CERTIFICATE').some((der) => ourDer !== undefined && der.equals(ourDer))).toBe(false);
    expect(await fs.readdir(layout?.anchorDir ?? '')).not.toContain(`${cert.label}.crt`);
    expect((await fs.readdir('/etc/ssl/certs')).filter((f) => f.includes(cert.label))).toEqual([]);
    const { stdout } = await run('certutil', ['-L', '-d', `sql:${path.join(userHome, '.pki', 'nssdb')}`]);
    expect(stdout).not.toContain(cert.label);
  });
});
