import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { RootAuthority } from '../../../agent/ca/root-authority.js';
import { LeafIssuer, LEAF_VALIDITY_MS, RENEW_BEFORE_MS } from '../../../agent/ca/issuer.js';
import { generateEcKey } from '../../../agent/ca/keys.js';
import { leafSpec } from '../../../shared/x509/profiles.js';
import { signCertificate } from '../../../shared/x509/certificate.js';
import { toPem } from '../../../shared/x509/pem.js';
import { CaError } from '../../../agent/ca/errors.js';
import { startTerminator, type Terminator } from './terminator.js';
import { fileKeys, opensslVerify, run, tempDir } from './fixtures.js';

const HOSTS = ['api.openai.com', '*.openai.azure.com', 'api.anthropic.com'];

function handshake(port: number, servername: string, ca: string): Promise<{ authorized: boolean; error?: string; cert: tls.PeerCertificate }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername, ca, rejectUnauthorized: false }, () => {
      const result = { authorized: socket.authorized, error: socket.authorizationError?.message, cert: socket.getPeerCertificate() };
      socket.destroy();
      resolve(result);
    });
    socket.on('error', reject);
  });
}

describe('leaf issuer (CertificateSource)', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let root: RootAuthority;
  let issuer: LeafIssuer;
  let server: Terminator;

  beforeAll(async () => {
    tmp = await tempDir();
    root = await RootAuthority.open({ home: tmp.dir, keys: await fileKeys(tmp.dir), constrainTo: HOSTS, deviceName: 'test-device' });
    issuer = await LeafIssuer.create(root.ca);
    server = await startTerminator(issuer);
  });
  afterAll(async () => {
    await server?.close();
    await tmp?.cleanup();
  });

  it('serves a leaf that a Node client trusting only the root accepts for the host', async () => {
    const result = await handshake(server.port, 'api.openai.com', root.ca.certPem);
    expect(result.error).toBeUndefined();
    expect(result.authorized).toBe(true);
    expect(result.cert.subjectaltname).toBe('DNS:api.openai.com');
  });

  it('issues for a host under a wildcard policy entry', async () => {
    const result = await handshake(server.port, 'myres.openai.azure.com', root.ca.certPem);
    expect(result.authorized).toBe(true);
  });

  it('writes the leaf profile: SAN, CN, serverAuth, digitalSignature, AKI = root SKI, 45 days, backdated', async () => {
    const before = Date.now();
    const leaf = await issuer.issue('api.anthropic.com');
    const x = new X509Certificate(leaf.certPem);
    const rootX = new X509Certificate(root.ca.certPem);
    expect(x.subject).toBe('CN=api.anthropic.com');
    expect(x.subjectAltName).toBe('DNS:api.anthropic.com');
    expect(x.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(x.ca).toBe(false);
    expect(x.checkIssued(rootX)).toBe(true);
    expect(x.verify(rootX.publicKey)).toBe(true);
    const notBefore = new Date(x.validFrom).getTime();
    const notAfter = new Date(x.validTo).getTime();
    expect(notBefore).toBeLessThan(before - 30 * 60 * 1000);
    expect(notAfter - notBefore).toBe(LEAF_VALIDITY_MS);
    const check = await opensslVerify(tmp.dir, root.ca.certPem, leaf.certPem);
    expect(check.output).toContain('OK');
    expect(check.ok).toBe(true);
  });

  it('answers synchronously once a host is cached', async () => {
    await issuer.prewarm(['api.openai.com']);
    expect(issuer.secureContext('api.openai.com')).not.toBeInstanceOf(Promise);
  });

  it('treats a host name in upper case as the same host', async () => {
    const fresh = await LeafIssuer.create(root.ca);
    await fresh.secureContext('API.OpenAI.com');
    expect(fresh.secureContext('api.openai.com')).not.toBeInstanceOf(Promise);
    expect(fresh.stats().issued).toBe(1);
  });

  it('prewarms exact hosts and skips wildcards', async () => {
    const fresh = await LeafIssuer.create(root.ca);
    await fresh.prewarm(HOSTS);
    expect(fresh.stats()).toEqual({ cachedHosts: 2, issued: 2 });
  });

  it('issues once for concurrent first requests for the same host', async () => {
    const fresh = await LeafIssuer.create(root.ca);
    const results = await Promise.all(Array.from({ length: 25 }, () => fresh.secureContext('api.openai.com')));
    expect(fresh.stats().issued).toBe(1);
    expect(new Set(results).size).toBe(1);
  });

  it('refuses a host outside the name constraints, and an IP address, with stable codes', async () => {
    await expect(issuer.issue('www.mybank.com')).rejects.toMatchObject({ code: 'CA_OUTSIDE_CONSTRAINTS' });
    await expect(issuer.issue('127.0.0.1')).rejects.toBeInstanceOf(CaError);
    await expect(issuer.issue('127.0.0.1')).rejects.toMatchObject({ code: 'CA_BAD_HOST' });
  });

  it('has clients refuse a leaf for another host even when signed with the stolen CA key', async () => {
    const key = await generateEcKey();
    const der = await signCertificate(
      leafSpec({ host: 'www.mybank.com', issuer: root.ca.subject, issuerKeyId: root.ca.keyId, spki: key.spki, keyId: key.keyId, rsa: false, notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 86_400_000) }),
      root.ca.key.privateKey,
    );
    const forged = await opensslVerify(tmp.dir, root.ca.certPem, toPem(der, 'CERTIFICATE'));
    expect(forged.ok).toBe(false);
    expect(forged.output).toMatch(/name constraint|permitted subtree/i);
    const forgedServer = tls.createServer({ key: key.privatePem, cert: toPem(der, 'CERTIFICATE') });
    await new Promise<void>((r) => forgedServer.listen(0, '127.0.0.1', r));
    try {
      const port = (forgedServer.address() as { port: number }).port;
      const result = await handshake(port, 'www.mybank.com', root.ca.certPem);
      expect(result.authorized).toBe(false);
    } finally {
      forgedServer.close();
    }
  });

  it('serves 60 new hosts handshaking at once, each its own valid leaf', async () => {
    const hosts = Array.from({ length: 60 }, (_, i) => `h${i}.api.openai.com`);
    const results = await Promise.all(hosts.map((h) => handshake(server.port, h, root.ca.certPem)));
    expect(results.every((r) => r.authorized)).toBe(true);
    expect(results.map((r) => r.cert.subjectaltname)).toEqual(hosts.map((h) => `DNS:${h}`));
  });

  it('makes a root for a policy with no hosts that permits no host, and re-issues when hosts appear', async () => {
    const home = `${tmp.dir}/empty`;
    const empty = await RootAuthority.open({ home, keys: await fileKeys(home), constrainTo: [] });
    expect(empty.ca.permittedDns).toEqual(['invalid']);
    const { stdout } = await run('openssl', ['x509', '-noout', '-text', '-in', empty.certPath]);
    expect(stdout).toMatch(/Name Constraints: critical\s+Permitted:\s+DNS:invalid/);
    await expect((await LeafIssuer.create(empty.ca)).issue('api.openai.com')).rejects.toMatchObject({ code: 'CA_OUTSIDE_CONSTRAINTS' });
    expect(await empty.coverHosts(['api.openai.com'])).toBe('reissued-for-hosts');
  });

  it('keeps at most maxHosts leaves', async () => {
    const small = await LeafIssuer.create(root.ca, { maxHosts: 2 });
    await small.prewarm(['a.api.openai.com', 'b.api.openai.com', 'c.api.openai.com']);
    expect(small.stats().cachedHosts).toBe(2);
  });

  it('re-issues in the background before expiry and serves the old leaf meanwhile', async () => {
    let now = Date.now();
    const clocked = await LeafIssuer.create(root.ca, { now: () => now });
    const first = await clocked.issue('api.openai.com');
    now = first.notAfter - RENEW_BEFORE_MS + 1000;
    const served = clocked.secureContext('api.openai.com');
    expect(served).toBe(first.context);
    await new Promise((r) => setTimeout(r, 50));
    await clocked.issue('api.openai.com'); // joins or follows the background issuance
    expect(clocked.stats().issued).toBeGreaterThanOrEqual(2);
    expect(clocked.secureContext('api.openai.com')).not.toBe(first.context);
  });

  it('waits for a new leaf when the cached one has expired', async () => {
    let now = Date.now();
    const clocked = await LeafIssuer.create(root.ca, { now: () => now });
    const first = await clocked.issue('api.openai.com');
    now = first.notAfter + 1000;
    const served = clocked.secureContext('api.openai.com');
    expect(served).toBeInstanceOf(Promise);
    expect(await served).not.toBe(first.context);
  });

  it('drops cached leaves when the CA changes', async () => {
    const fresh = await LeafIssuer.create(root.ca);
    await fresh.prewarm(['api.openai.com']);
    fresh.setCa(root.ca);
    expect(fresh.stats().cachedHosts).toBe(0);
    expect(fresh.secureContext('api.openai.com')).toBeInstanceOf(Promise);
  });
});
