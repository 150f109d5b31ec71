import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { nssStore } from '../../../agent/ca/trust/nss.js';
import { openCertificateAuthority, type CertificateAuthority } from '../../../agent/ca/certificate-authority.js';
import { resolveAgentConfig } from '../../../agent/config/load.js';
import { agentConfig } from '../../../shared/schema/config.js';
import { policy as policySchema } from '../../../shared/schema/policy.js';
import { startWorld, type ProxyWorld } from '../proxy/harness.js';
import { run, tempDir } from './fixtures.js';
import { createOrgRoot } from './org-root.js';

const HOSTS = ['api.openai.com', 'api.mistral.ai', '*.openai.azure.com'];

// Python through the proxy: CONNECT tunnel, then strict verification of what the engine serves.
const PYTHON = `
import http.client, os, ssl
ctx = ssl.create_default_context(cafile=os.environ["CAFILE"])
ctx.verify_flags |= ssl.VERIFY_X509_STRICT
c = http.client.HTTPSConnection("127.0.0.1", int(os.environ["PROXY_PORT"]), context=ctx, timeout=10)
c.set_tunnel(os.environ["HOST"], 443)
c.request("GET", "/v1/models", headers={"Authorization": "Bearer sk-test"})
print(c.getresponse().status)
`;

async function openCa(home: string, mode: 'standalone' | 'fleet'): Promise<CertificateAuthority> {
  const config = resolveAgentConfig(agentConfig.parse({ home, ca: { mode, keyStore: 'file' } }), home, null, {});
  return openCertificateAuthority(config, policySchema.parse({ version: 1, name: 't', interception: { hosts: HOSTS } }), { stores: async () => [] });
}

describe.each(['standalone', 'fleet'] as const)('the engine serving %s leaves', (mode) => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let ca: CertificateAuthority;
  let world: ProxyWorld;

  beforeAll(async () => {
    tmp = await tempDir();
    ca = await openCa(path.join(tmp.dir, 'home'), mode);
    if (mode === 'fleet') {
      const org = await createOrgRoot();
      const fleet = ca.fleet;
      if (!fleet) throw new Error('fleet mode without a fleet authority');
      await ca.installIntermediate(await org.signer()(await fleet.csr()));
    }
    world = await startWorld({ hosts: HOSTS, certificates: () => ca.source });
  });
  afterAll(async () => {
    await world?.close();
    await tmp?.cleanup();
  });

  it("passes Python's strict verification through the proxy", async () => {
    const { stdout } = await run('python3', ['-c', PYTHON], { env: { ...process.env, CAFILE: ca.caFile, PROXY_PORT: String(world.engine.address.port), HOST: 'api.openai.com' } });
    expect(stdout.trim()).toBe('200');
  });

  it('is accepted by curl through the proxy with the combined bundle (OS roots + ours)', async () => {
    const { stdout } = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', ca.bundleFile, '-x', world.engine.url, '-H', 'Authorization: Bearer sk-test', 'https://api.openai.com/v1/models']);
    expect(stdout).toBe('200');
  });

  it('passes openssl s_client -x509_strict through the proxy', async () => {
    const { stdout } = await run('bash', ['-c', `echo | openssl s_client -proxy 127.0.0.1:${world.engine.address.port} -connect api.openai.com:443 -servername api.openai.com -CAfile ${ca.caFile} -x509_strict -verify_return_error 2>&1`]);
    expect(stdout).toContain('Verify return code: 0 (ok)');
  });
});

describe('headless Chromium through the engine, root trusted in its NSS database only', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let ca: CertificateAuthority;
  let world: ProxyWorld;
  let userHome: string;

  beforeAll(async () => {
    tmp = await tempDir();
    userHome = path.join(tmp.dir, 'user');
    ca = await openCa(path.join(tmp.dir, 'home'), 'standalone');
    world = await startWorld({ hosts: HOSTS, certificates: () => ca.source });
  });
  afterAll(async () => {
    await world?.close();
    await tmp?.cleanup();
  });

  async function visit(): Promise<string> {
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      env: { ...process.env, HOME: userHome },
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', `--proxy-server=${world.engine.url}`],
    });
    try {
      const page = await browser.newPage();
      const response = await page.goto('https://api.openai.com/v1/models', { timeout: 15_000 });
      return `status ${response?.status() ?? 'none'}`;
    } catch (err) {
      return (err as Error).message;
    } finally {
      await browser.close();
    }
  }

  it('refuses before trust and loads the page once `trust` put the root in ~/.pki/nssdb', async () => {
    expect(await visit()).toMatch(/ERR_CERT_AUTHORITY_INVALID/);
    const cert = await ca.trusted();
    if (!cert) throw new Error('no root');
    await nssStore(path.join(userHome, '.pki', 'nssdb')).install(cert);
    expect(await visit()).toMatch(/^status \d{3}$/);
  });
});
