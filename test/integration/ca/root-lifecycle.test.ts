/**
 * The standalone root over its life: renewed ahead of expiry (at start, and by the running agent's
 * daily upkeep) and re-trusted where the old one was, with a real NSS database (certutil).
 */
import path from 'node:path';
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCertificateAuthority } from '../../../agent/ca/certificate-authority.js';
import { ROOT_RENEW_BEFORE_MS, ROOT_VALIDITY_MS } from '../../../agent/ca/root-authority.js';
import { nssStore } from '../../../agent/ca/trust/nss.js';
import { resolveAgentConfig, type ResolvedAgentConfig } from '../../../agent/config/load.js';
import { agentConfig } from '../../../shared/schema/config.js';
import { policy as policySchema } from '../../../shared/schema/policy.js';
import { tempDir } from './fixtures.js';

const DAY = 86_400_000;
const policy = policySchema.parse({ version: 1, name: 'p', interception: { hosts: ['api.openai.com'] } });

describe('the standalone root near expiry', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let config: ResolvedAgentConfig;
  let nssDir: string;
  beforeAll(async () => {
    tmp = await tempDir('outpost-root-life-');
    nssDir = path.join(tmp.dir, 'user', '.pki', 'nssdb');
    config = resolveAgentConfig(agentConfig.parse({ home: path.join(tmp.dir, 'home'), ca: { keyStore: 'file' } }), tmp.dir, null, {});
  });
  afterAll(async () => tmp?.cleanup());
  const open = (now: () => number) => openCertificateAuthority(config, policy, { stores: async () => [nssStore(nssDir)], now });

  it('is renewed at start once less than 60 days are left, with the same key, and re-trusted', async () => {
    const start = Date.now();
    const first = await open(() => start);
    const old = await first.trusted();
    if (old === null) throw new Error('no root');
    await nssStore(nssDir).install(old);

    const later = start + ROOT_VALIDITY_MS - ROOT_RENEW_BEFORE_MS + DAY;
    const reopened = await open(() => later);
    expect(reopened.root?.opened).toBe('renewed');
    const renewed = await reopened.trusted();
    expect(renewed?.sha1).not.toBe(old.sha1);
    expect(reopened.root?.ca.key.keyId.equals(first.root?.ca.key.keyId ?? Buffer.alloc(0))).toBe(true);
    expect(new Date(new X509Certificate(renewed?.pem ?? '').validTo).getTime()).toBeGreaterThan(later + ROOT_VALIDITY_MS - 2 * DAY);
    expect(renewed && (await nssStore(nssDir).isTrusted(renewed))).toBe(true);
    expect(await nssStore(nssDir).isTrusted(old)).toBe(false);
    expect(reopened.lastRetrust()).toEqual([expect.objectContaining({ store: `nss:${nssDir}`, ok: true })]);
    expect(reopened.pendingTrust()).toEqual([]);
  });

  it('is renewed by the running agent\'s daily upkeep, and re-trusted', async () => {
    let now = Date.now();
    const fresh = resolveAgentConfig(agentConfig.parse({ home: path.join(tmp.dir, 'running'), ca: { keyStore: 'file' } }), tmp.dir, null, {});
    const ca = await openCertificateAuthority(fresh, policy, { stores: async () => [nssStore(nssDir)], now: () => now });
    const trustedAtStart = await ca.trusted();
    if (trustedAtStart === null) throw new Error('no root');
    await nssStore(nssDir).install(trustedAtStart);
    const before = await ca.trusted();
    expect(await ca.maintain()).toBe('unchanged');
    now += ROOT_VALIDITY_MS - ROOT_RENEW_BEFORE_MS + DAY;
    expect(await ca.maintain()).toBe('renewed');
    const after = await ca.trusted();
    expect(after?.sha1).not.toBe(before?.sha1);
    expect(after && (await nssStore(nssDir).isTrusted(after))).toBe(true);
    // Leaves now come from the renewed root.
    const leaf = await ca.source.issue('api.openai.com');
    expect(new X509Certificate(leaf.certPem).verify(new X509Certificate(after?.pem ?? '').publicKey)).toBe(true);
  });
});
