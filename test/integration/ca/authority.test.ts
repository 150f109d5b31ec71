import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';
import { openCertificateAuthority, type CertificateAuthority } from '../../../agent/ca/certificate-authority.js';
import { nssStore } from '../../../agent/ca/trust/nss.js';
import { resolveAgentConfig } from '../../../agent/config/load.js';
import { agentConfig } from '../../../shared/schema/config.js';
import { policy as policySchema, type Policy } from '../../../shared/schema/policy.js';
import { fromPem } from '../../../shared/x509/pem.js';
import { run, tempDir } from './fixtures.js';

function policyWith(hosts: string[]): Policy {
  return policySchema.parse({ version: 1, name: 'test', interception: { hosts } });
}

describe('the CA as the composition root uses it', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let ca: CertificateAuthority;
  let nssDir: string;

  beforeAll(async () => {
    tmp = await tempDir();
    nssDir = path.join(tmp.dir, 'user', '.pki', 'nssdb');
    const config = resolveAgentConfig(agentConfig.parse({ home: path.join(tmp.dir, 'home'), ca: { keyStore: 'file' } }), tmp.dir, null, {});
    ca = await openCertificateAuthority(config, policyWith(['api.openai.com', '*.openai.azure.com']), { stores: async () => [nssStore(nssDir)] });
  });
  afterAll(async () => tmp?.cleanup());

  it('creates a root on first start and issues the exact policy hosts before any client asks', () => {
    expect(ca.root?.opened).toBe('created');
    expect(ca.source.stats()).toEqual({ cachedHosts: 1, issued: 1 });
    expect(ca.source.secureContext('api.openai.com')).not.toBeInstanceOf(Promise);
  });

  it('writes a bundle of the OS roots with our root last', async () => {
    const blocks = fromPem(await fs.readFile(ca.bundleFile, 'utf8'), 'CERTIFICATE');
    expect(blocks.length).toBeGreaterThan(50);
    expect(blocks.at(-1)?.equals(new X509Certificate(await fs.readFile(ca.caFile, 'utf8')).raw)).toBe(true);
  });

  it('re-issues and re-trusts the root when a new policy names a host outside its constraints', async () => {
    const before = await ca.trusted();
    if (!before) throw new Error('no root');
    await nssStore(nssDir).install(before);
    await expect(ca.source.issue('api.anthropic.com')).rejects.toMatchObject({ code: 'CA_OUTSIDE_CONSTRAINTS' });

    expect(await ca.applyPolicy(policyWith(['api.openai.com', 'api.anthropic.com']))).toBe('reissued-for-hosts');
    const after = await ca.trusted();
    expect(after?.sha1).not.toBe(before.sha1);
    expect(ca.root?.ca.permittedDns).toEqual(['api.anthropic.com', 'api.openai.com']);
    // The NSS database now holds the new root under the same nickname, and only that.
    expect(after && (await nssStore(nssDir).isTrusted(after))).toBe(true);
    expect(ca.lastRetrust()).toEqual([expect.objectContaining({ store: `nss:${nssDir}`, ok: true })]);
    const { stdout } = await run('certutil', ['-L', '-d', `sql:${nssDir}`]);
    expect(stdout.split('\n').filter((l) => l.includes(before.label))).toHaveLength(1);
    // The new host is issued ahead, and the bundle follows.
    expect(ca.source.secureContext('api.anthropic.com')).not.toBeInstanceOf(Promise);
    expect(await fs.readFile(ca.bundleFile, 'utf8')).toContain(after?.pem.split('\n')[1]);
  });

  it('keeps the root when a new policy only drops hosts', async () => {
    const before = await ca.trusted();
    expect(await ca.applyPolicy(policyWith(['api.openai.com']))).toBe('unchanged');
    expect((await ca.trusted())?.sha1).toBe(before?.sha1);
  });

  it('applies overlapping policies one at a time: the last one is covered', async () => {
    const first = ca.applyPolicy(policyWith(['api.openai.com', 'api.mistral.ai']));
    const last = ca.applyPolicy(policyWith(['api.openai.com', 'api.groq.com']));
    await Promise.all([first, last]);
    expect(ca.coverage()).toEqual({ uncovered: [], reason: null });
    expect(ca.root?.ca.permittedDns).toEqual(['api.groq.com', 'api.openai.com']);
  });

  it('rotates to a new key, re-trusts it, and drops leaves of the old root', async () => {
    const before = ca.root?.ca.key.keyId.toString('hex');
    await ca.rotate();
    expect(ca.root?.ca.key.keyId.toString('hex')).not.toBe(before);
    const now = await ca.trusted();
    expect(now && (await nssStore(nssDir).isTrusted(now))).toBe(true);
    const leaf = await ca.source.issue('api.openai.com');
    expect(new X509Certificate(leaf.certPem).verify(new X509Certificate(now?.pem ?? '').publicKey)).toBe(true);
  });
});

describe('the CA in fleet mode', () => {
  it('issues nothing until enrolled, then renews through the signer and serves the chain', async () => {
    const { createOrgRoot } = await import('./org-root.js');
    const tmp = await tempDir();
    try {
      const config = resolveAgentConfig(agentConfig.parse({ home: tmp.dir, ca: { mode: 'fleet', keyStore: 'file' } }), tmp.dir, null, {});
      const ca = await openCertificateAuthority(config, policyWith(['api.openai.com']), { stores: async () => [] });
      expect(await ca.trusted()).toBeNull();
      await expect(ca.source.issue('api.openai.com')).rejects.toMatchObject({ code: 'CA_NO_INTERMEDIATE' });
      const org = await createOrgRoot();
      expect(await ca.renewIfDue(org.signer())).toBe(true);
      expect(await ca.renewIfDue(org.signer())).toBe(false);
      expect(ca.source.secureContext('api.openai.com')).not.toBeInstanceOf(Promise);
      const leaf = await ca.source.issue('api.openai.com');
      expect(fromPem(leaf.certPem, 'CERTIFICATE')).toHaveLength(2);
      expect((await ca.trusted())?.pem).toBe(org.certPem);
      expect(fromPem(await fs.readFile(ca.bundleFile, 'utf8'), 'CERTIFICATE').at(-1)?.equals(new X509Certificate(org.certPem).raw)).toBe(true);
    } finally {
      await tmp.cleanup();
    }
  });
});
