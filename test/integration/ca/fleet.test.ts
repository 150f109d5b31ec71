import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { FleetAuthority } from '../../../agent/ca/fleet-authority.js';
import { LeafIssuer } from '../../../agent/ca/issuer.js';
import { readCsr } from '../../../shared/x509/csr.js';
import fs from 'node:fs/promises';
import { generateEcKey } from '../../../agent/ca/keys.js';
import { createCsr } from '../../../shared/x509/csr.js';
import { fileKeys, opensslVerify, run, tempDir } from './fixtures.js';
import { createOrgRoot, type OrgRoot } from './org-root.js';
import { startTerminator } from './terminator.js';

const DAY = 86_400_000;

describe('fleet mode: device intermediate from a CSR', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let org: OrgRoot;

  beforeAll(async () => {
    tmp = await tempDir();
    org = await createOrgRoot();
  });
  afterAll(async () => tmp?.cleanup());

  async function openFleet(name: string, now?: () => number): Promise<FleetAuthority> {
    const home = `${tmp.dir}/${name}`;
    return FleetAuthority.open({ home, keys: await fileKeys(home), requireNameConstraints: true, deviceName: 'test-device', ...(now ? { now } : {}) });
  }

  it('produces a CSR signed by a device key that stays the same across restarts', async () => {
    const a = await openFleet('csr');
    const first = readCsr(await a.csr());
    const b = await openFleet('csr');
    expect(readCsr(await b.csr()).spki.equals(first.spki)).toBe(true);
  });

  it('serves leaf + intermediate, which a client trusting only the organisation root accepts', async () => {
    const fleet = await openFleet('chain');
    const ca = await fleet.install(await org.signer()(await fleet.csr()));
    const issuer = await LeafIssuer.create(ca);
    const server = await startTerminator(issuer);
    try {
      const result = await new Promise<{ authorized: boolean; chain: number }>((resolve, reject) => {
        const socket = tls.connect({ host: '127.0.0.1', port: server.port, servername: 'api.openai.com', ca: org.certPem, rejectUnauthorized: false }, () => {
          let depth = 0;
          for (let c = socket.getPeerCertificate(true); c && depth < 5; c = c.issuerCertificate === c ? (undefined as never) : c.issuerCertificate) depth++;
          resolve({ authorized: socket.authorized, chain: depth });
          socket.destroy();
        });
        socket.on('error', reject);
      });
      expect(result.authorized).toBe(true);
      expect(result.chain).toBeGreaterThanOrEqual(2);
      const leaf = await issuer.issue('api.openai.com');
      const strict = await opensslVerify(tmp.dir, org.certPem, leaf.certPem, ca.certPem);
      expect(strict.output).toContain('OK');
    } finally {
      await server.close();
    }
  });

  it('writes a pathlen-0, name-constrained intermediate of at most 30 days', async () => {
    const fleet = await openFleet('profile');
    const ca = await fleet.install(await org.signer({ lifetimeMs: 90 * DAY })(await fleet.csr()));
    const x = new X509Certificate(ca.certPem);
    expect(new Date(x.validTo).getTime() - new Date(x.validFrom).getTime()).toBeLessThanOrEqual(30 * DAY);
    expect(ca.permittedDns).toEqual(['api.openai.com', 'openai.azure.com']);
    await fs.writeFile(`${tmp.dir}/intermediate.pem`, ca.certPem);
    const { stdout } = await run('openssl', ['x509', '-noout', '-text', '-in', `${tmp.dir}/intermediate.pem`]);
    expect(stdout).toMatch(/Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
  });

  it('refuses an intermediate for another key, without name constraints, or not from the organisation root', async () => {
    const fleet = await openFleet('refuse');
    const otherKey = await generateEcKey();
    const foreign = await org.signer()(await createCsr([['CN', 'other']], otherKey.privateKey, otherKey.spki));
    await expect(fleet.install(foreign)).rejects.toMatchObject({ code: 'CA_BAD_INTERMEDIATE' });
    const unconstrained = await org.signer({ permittedDns: null })(await fleet.csr());
    await expect(fleet.install(unconstrained)).rejects.toMatchObject({ code: 'CA_BAD_INTERMEDIATE' });
    const otherOrg = await createOrgRoot();
    const signed = await otherOrg.signer()(await fleet.csr());
    await expect(fleet.install({ intermediatePem: signed.intermediatePem, orgRootPem: org.certPem })).rejects.toMatchObject({ code: 'CA_BAD_INTERMEDIATE' });
    expect(fleet.ca).toBeNull();
  });

  it('fails issuance with a stable code until an intermediate is installed', async () => {
    const fleet = await openFleet('none');
    const issuer = await LeafIssuer.create(fleet.ca);
    await expect(issuer.issue('api.openai.com')).rejects.toMatchObject({ code: 'CA_NO_INTERMEDIATE' });
  });

  it('renews once a third of the lifetime is left, and keeps the installed one across restarts', async () => {
    let now = Date.now();
    const fleet = await openFleet('renew', () => now);
    const first = await fleet.renewIfDue(org.signer());
    expect(first).not.toBeNull();
    expect(await fleet.renewIfDue(org.signer())).toBeNull();
    now += 21 * DAY;
    const second = await fleet.renewIfDue(org.signer({ notBefore: new Date(now - 3_600_000) }));
    expect(second).not.toBeNull();
    expect(second?.certPem).not.toBe(first?.certPem);
    const reopened = await openFleet('renew', () => now);
    expect(reopened.ca?.certPem).toBe(second?.certPem);
  });

  it('asks for a new intermediate when the policy names a host outside its constraints', async () => {
    const fleet = await openFleet('hosts');
    await fleet.install(await org.signer()(await fleet.csr()));
    expect(fleet.needsRenewal(['api.openai.com', '*.openai.azure.com'])).toBe(false);
    expect(fleet.needsRenewal(['api.openai.com', 'api.anthropic.com'])).toBe(true);
  });

  it('the signer refuses a CSR whose signature does not verify', async () => {
    const fleet = await openFleet('tamper');
    const pem = await fleet.csr();
    const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    der[der.length - 5] = (der[der.length - 5] ?? 0) ^ 0xff;
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    await expect(org.signer()(tampered)).rejects.toThrow(/signature|DER/);
  });
});
