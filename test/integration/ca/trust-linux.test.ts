import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { RootAuthority } from '../../../agent/ca/root-authority.js';
import { LeafIssuer } from '../../../agent/ca/issuer.js';
import { trustedCert, type TrustedCert, type TrustStore } from '../../../agent/ca/trust/types.js';
import { trustEverywhere, trustStores, untrustEverywhere } from '../../../agent/ca/trust/index.js';
import { detectLinuxLayout, type LinuxLayout } from '../../../agent/ca/trust/linux-system.js';
import { fromPem } from '../../../shared/x509/pem.js';
import { fileKeys, run, tempDir } from './fixtures.js';
import { startTerminator, type Terminator } from './terminator.js';
import { X509Certificate } from 'node:crypto';
import { startTestAgent, type TestAgent } from '../../support/agent.js';
import { fetchFor } from '../../support/clients.js';
import { runOutpost, startOutpost } from '../../support/cli.js';
import type { ChildProcess } from 'node:child_process';
import { REPO_ROOT } from '../../support/repo.js';
import { createTestCa, type TestCa } from '../../support/test-ca.js';
import { startFakeProvider, type FakeProvider } from '../../support/fake-provider.js';
import { nssStore } from '../../../agent/ca/trust/nss.js';
import { agentStatus, type AgentStatus } from '../../../shared/schema/control.js';

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

/** curl through `proxyUrl` with no CA flag (the system bundle decides): status and the issuer CN it met. */
async function curlThrough(proxyUrl: string): Promise<{ status: string; issuer: string }> {
  const env = { ...process.env };
  for (const v of ['CURL_CA_BUNDLE', 'SSL_CERT_FILE', 'SSL_CERT_DIR', 'REQUESTS_CA_BUNDLE', 'HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy']) delete env[v];
  try {
    const { stdout, stderr } = await run('curl', ['-sS', '-v', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '20', '-x', proxyUrl, '-H', 'authorization: Bearer sk-user-own', `https://${HOST}/v1/models`], { env });
    return { status: stdout, issuer: /issuer: .*CN=([^\n;]+)/.exec(stderr)?.[1]?.trim() ?? '' };
  } catch (err) {
    const lines = String((err as { stderr?: string }).stderr ?? err).split('\n');
    return { status: lines.find((l) => l.startsWith('curl: (')) ?? 'failed', issuer: '' };
  }
}

describe.runIf(canRun)('`outpost ca rotate` against a running agent with traffic flowing (system bundle and NSS)', () => {
  let t: TestAgent;
  let stores: TrustStore[];
  let nssdb: string;

  beforeAll(async () => {
    t = await startTestAgent({ policy: { version: 1, name: 'rotate', interception: { hosts: [HOST] } } });
    nssdb = path.join(t.home, '.pki', 'nssdb');
    stores = await trustStores({ userHome: t.home });
    // What `sudo outpost ca trust` does before the rotation.
    const root = await t.agent.ca.trusted();
    if (root === null) throw new Error('no root');
    expect((await trustEverywhere(root, stores)).every((o) => o.ok)).toBe(true);
  }, 60_000);
  afterAll(async () => {
    const now = await t?.agent.ca.trusted();
    if (now && stores) await untrustEverywhere(now, stores);
    await t?.close();
  }, 60_000);

  it('no request fails: the new root is trusted beside the old one before the switch, and alone after it', async () => {
    const before = await t.agent.ca.trusted();
    if (before === null) throw new Error('no root');
    const oldIssuer = new X509Certificate(before.pem).subject.split('\n').find((l) => l.startsWith('CN='))?.slice(3);
    const first = await curlThrough(t.proxyUrl);
    expect(first).toEqual({ status: '200', issuer: oldIssuer });

    // A streamed response held open across the rotation must complete too.
    t.provider.knobs.holdAfterEvents = 1;
    const { client: fetch, close } = fetchFor({ proxyUrl: t.proxyUrl, ca: before.pem });
    const streaming = fetch(`https://${HOST}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-user-own' },
      body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'across the rotation' }] }),
    });
    const response = await streaming;
    expect(response.status).toBe(200);

    // `outpost ca rotate` finds the running agent through its runtime file and asks it to rotate.
    let rotated = false;
    const rotation = runOutpost(['ca', 'rotate', '--json'], { OUTPOST_HOME: t.home }).finally(() => (rotated = true));
    const seen: Array<{ status: string; issuer: string }> = [];
    while (!rotated) seen.push(await curlThrough(t.proxyUrl));
    for (let i = 0; i < 3; i++) seen.push(await curlThrough(t.proxyUrl));
    const result = await rotation;
    expect(result.stderr).toBe('');
    const answer = JSON.parse(result.stdout) as { running: boolean; fingerprint256: string; pending: unknown[]; command: string | null };
    expect(answer).toMatchObject({ running: true, pending: [], command: null });

    t.provider.release();
    expect(await response.text()).toContain('[DONE]');
    await close();

    const after = await t.agent.ca.trusted();
    if (after === null) throw new Error('no root');
    const newIssuer = new X509Certificate(after.pem).subject.split('\n').find((l) => l.startsWith('CN='))?.slice(3);
    expect(newIssuer).not.toBe(oldIssuer);
    expect(new X509Certificate(after.pem).fingerprint256).toBe(answer.fingerprint256);
    // Every request succeeded, and the last ones met the new root.
    expect(seen.filter((s) => s.status !== '200')).toEqual([]);
    expect(seen.at(-1)?.issuer).toBe(newIssuer);

    // The stores hold the new root alone: the old one and the staging slot are gone.
    for (const store of stores) {
      expect(await store.isTrusted(after)).toBe(true);
      expect(await store.isTrusted(before)).toBe(false);
    }
    const anchors = (await fs.readdir(layout?.anchorDir ?? '')).filter((f) => f.startsWith(before.label));
    expect(anchors).toEqual([`${before.label}.crt`]);
    const { stdout } = await run('certutil', ['-L', '-d', `sql:${nssdb}`]);
    expect(stdout.split('\n').filter((l) => l.startsWith(before.label))).toHaveLength(1);
  }, 120_000);
});

/** nobody: an ordinary user, without the rights the system store needs. */
const NOBODY = { uid: 65534, gid: 65534 };
/** Whether nobody can run the built CLI from where this checkout is (CI may clone under a private folder). */
const nobodyCanRun = canRun && (await run(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(path.join(REPO_ROOT, 'dist/agent/cli/main.js'))}, require('fs').constants.R_OK)`], NOBODY).then(() => true, () => false));

describe.runIf(nobodyCanRun)('re-trust the agent may not do itself: an agent running as an ordinary user widens its root', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let configFile: string;
  let provider: FakeProvider;
  let upstreamCa: TestCa;
  let agent: ChildProcess | null = null;
  let home: string;
  let systemStore: TrustStore;

  const writePolicy = (version: number, hosts: string[]): Promise<void> => fs.writeFile(path.join(tmp.dir, 'policy.json'), JSON.stringify({ version, name: `v${version}`, interception: { hosts } }));
  const chownAll = (): Promise<unknown> => run('chown', ['-R', `${NOBODY.uid}:${NOBODY.gid}`, tmp.dir]);
  async function status(controlUrl: string): Promise<AgentStatus> {
    const token = (await fs.readFile(path.join(home, 'control.token'), 'utf8')).trim();
    return agentStatus.parse(await (await fetch(`${controlUrl}/v1/status`, { headers: { authorization: `Bearer ${token}` } })).json());
  }
  async function stopAgent(): Promise<void> {
    if (agent === null || agent.exitCode !== null) return;
    const exited = new Promise((resolve) => agent?.once('exit', resolve));
    agent.kill('SIGTERM');
    await exited;
  }

  beforeAll(async () => {
    tmp = await tempDir('outpost-retrust-user-');
    await fs.chmod(tmp.dir, 0o755);
    upstreamCa = await createTestCa();
    provider = await startFakeProvider({ ca: upstreamCa });
    home = path.join(tmp.dir, 'home');
    await fs.copyFile(upstreamCa.caFile, path.join(tmp.dir, 'upstream-ca.pem'));
    configFile = path.join(tmp.dir, 'agent.json');
    await fs.writeFile(configFile, JSON.stringify({ home: 'home', policyFile: 'policy.json', proxy: { port: 0 }, control: { port: 0 }, ca: { keyStore: 'file' }, upstream: { resolve: provider.resolveMap(), caFile: 'upstream-ca.pem' }, log: { level: 'warn' } }));
    await writePolicy(1, [HOST]);
    await fs.mkdir(path.join(tmp.dir, 'user'));
    await chownAll();
    systemStore = (await trustStores({ userHome: path.join(tmp.dir, 'user') }))[0] as TrustStore;
  }, 60_000);
  afterAll(async () => {
    await stopAgent();
    const pem = await fs.readFile(path.join(home, 'ca', 'root.pem'), 'utf8').catch(() => null);
    if (pem !== null) await untrustEverywhere(trustedCert(pem, path.join(home, 'ca', 'root.pem'), home), [systemStore]);
    await provider?.close();
    await upstreamCa?.dispose();
    await tmp?.cleanup();
  }, 60_000);

  it('keeps the system store pending with the exact command in /v1/status until it is run, then clears it', async () => {
    const env = { HOME: path.join(tmp.dir, 'user') };
    const first = await startOutpost(configFile, { env, user: NOBODY });
    agent = first.child;
    await stopAgent();
    // The administrator trusted that root system-wide, and the user in Chromium's NSS database.
    const oldRoot = trustedCert(first.caPem, path.join(home, 'ca', 'root.pem'), home);
    const userNss = nssStore(path.join(tmp.dir, 'user', '.pki', 'nssdb'));
    expect((await trustEverywhere(oldRoot, [systemStore, userNss])).every((o) => o.ok)).toBe(true);
    await chownAll();

    await writePolicy(2, [HOST, 'api.anthropic.com']);
    const second = await startOutpost(configFile, { env, user: NOBODY });
    agent = second.child;
    const newRoot = trustedCert(second.caPem, path.join(home, 'ca', 'root.pem'), home);
    expect(newRoot.sha1).not.toBe(oldRoot.sha1);
    // Its own NSS database it re-trusted; the system store needs root.
    expect(await userNss.isTrusted(newRoot)).toBe(true);
    const pending = await status(second.controlUrl);
    expect(pending.ca.retrust).toEqual({
      pending: [expect.objectContaining({ store: 'linux-system', error: expect.stringMatching(/EACCES|permission denied/i) })],
      command: `sudo outpost ca trust --config ${configFile}`,
    });
    expect(pending.degraded.join('\n')).toContain(`run sudo outpost ca trust --config ${configFile}`);
    // Meanwhile clients of the system bundle hold the old root: the hosts it covers keep working (same key).
    expect((await curlThrough(second.proxyUrl)).status).toBe('200');

    // The user runs the command (here already root, so without sudo).
    const trusted = await runOutpost(['ca', 'trust', '--config', configFile], { HOME: path.join(tmp.dir, 'root-home') });
    expect(trusted.stdout).toContain('trusted in: system bundle');
    const done = await status(second.controlUrl);
    expect(done.ca.retrust).toEqual({ pending: [], command: null });
    expect(done.degraded.join('\n')).not.toContain('not trusted yet');
    expect(await systemStore.isTrusted(newRoot)).toBe(true);
  }, 120_000);
});
