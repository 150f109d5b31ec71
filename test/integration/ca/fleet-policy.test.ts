/**
 * Fleet mode: the device intermediate follows the policy through the gateway. The organisation
 * root is made in the test (`org-root.ts`); the intermediate that covers the new policy is signed
 * by the gateway's own signer (`gateway/ca/org-signer.ts`, loaded from that root's files), called
 * in-process where the sync client would carry the CSR over the WebSocket. A host the
 * intermediate does not cover is refused (never tunnelled) until the next sync brings an
 * intermediate that covers it; clients trust only the organisation root, which never changes.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAgent, type TestAgent } from '../../support/agent.js';
import { curl } from '../../support/curl.js';
import { runOutpost } from '../../support/cli.js';
import { FleetAuthority } from '../../../agent/ca/fleet-authority.js';
import { OrgSigner } from '../../../gateway/ca/org-signer.js';
import { openCertificateAuthority } from '../../../agent/ca/certificate-authority.js';
import { resolveAgentConfig } from '../../../agent/config/load.js';
import { agentConfig } from '../../../shared/schema/config.js';
import { policy as policySchema } from '../../../shared/schema/policy.js';
import { fromPem } from '../../../shared/x509/pem.js';
import { fileKeys, tempDir } from './fixtures.js';
import { createOrgRoot, type OrgRoot } from './org-root.js';

const OPENAI = 'api.openai.com';
const ANTHROPIC = 'api.anthropic.com';
const DAY = 86_400_000;

/** A call to `host` through the agent with curl, trusting only `caPem`: the HTTP status, or curl's complaint. */
async function callThrough(t: TestAgent, caPem: string, host: string): Promise<number | string> {
  const anthropic = host === ANTHROPIC;
  const result = await curl({
    url: anthropic ? `https://${host}/v1/messages` : `https://${host}/v1/models`,
    proxyUrl: t.proxyUrl,
    ca: caPem,
    ...(anthropic
      ? {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': 'sk-ant-user-own', 'anthropic-version': '2023-06-01' },
          body: JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 20, messages: [{ role: 'user', content: 'hello' }] }),
        }
      : { headers: { authorization: 'Bearer sk-user-own' } }),
  });
  return result.exitCode === 0 ? result.status : result.stderr;
}

describe('fleet mode: a policy that adds a host, before and after the next sync', () => {
  let org: OrgRoot;
  let t: TestAgent;
  let home: string;

  beforeAll(async () => {
    org = await createOrgRoot();
    home = await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-fleet-'));

    // Enrolled earlier under a policy of one host: the gateway signed an intermediate for it.
    const enrolled = await FleetAuthority.open({ home, keys: await fileKeys(home), requireNameConstraints: true });
    await enrolled.install(await org.signer({ permittedDns: [OPENAI] })(await enrolled.csr()));
    // The stored policy now names a second host (it came down while the device was offline).
    t = await startTestAgent({ home, config: { ca: { mode: 'fleet', keyStore: 'file' } }, policy: { version: 2, name: 'v2', interception: { hosts: [OPENAI, ANTHROPIC] } } });
  });
  afterAll(async () => {
    await t?.close();
    await fs.rm(home, { recursive: true, force: true });
  });

  it('names the uncovered host in status and refuses it with an audited 502 until the gateway signs', async () => {
    expect(t.agent.status().ca).toMatchObject({
      mode: 'fleet',
      permittedDns: [OPENAI],
      coverage: { uncovered: [ANTHROPIC], reason: expect.stringContaining('the gateway signs a new one at the next sync') },
      retrust: { pending: [], command: null },
    });
    const cli = await runOutpost(['status'], { OUTPOST_HOME: home });
    expect(cli.stdout).toContain(`WARNING  CA cannot sign for ${ANTHROPIC} (the device intermediate does not cover them yet: the gateway signs a new one at the next sync): requests to them are refused, not passed ungoverned`);
    expect(cli.stdout).toContain(`constrained to ${OPENAI}`);
    expect(await callThrough(t, org.certPem, OPENAI)).toBe(200);
    expect(String(await callThrough(t, org.certPem, ANTHROPIC))).toMatch(/CONNECT tunnel failed, response 502/);
    expect(t.agent.proxy.stats().tunnelled).toBe(0);
    t.agent.store.audit.flushNow();
    expect(t.agent.store.audit.recordsAfter(0).filter((r) => r.host === ANTHROPIC)).toEqual([
      expect.objectContaining({ kind: 'connect', decision: 'error', status: 502, rules: [expect.objectContaining({ kind: 'ca-cannot-sign' })] }),
    ]);
  });

  it('after the sync the new intermediate covers it: governed at once, the organisation root unchanged, nothing to re-trust', async () => {
    const caBefore = await fs.readFile(t.agent.ca.caFile, 'utf8');
    // The gateway's signer, constrained to the policy's hosts (what its ca.renew handler passes).
    await fs.writeFile(path.join(home, 'org-root.key'), org.keyPem, { mode: 0o600 });
    await fs.writeFile(path.join(home, 'org-root.crt'), org.certPem);
    const gateway = await OrgSigner.load(path.join(home, 'org-root.crt'), path.join(home, 'org-root.key'));
    const hosts = t.agent.policy().policy.interception.hosts;
    const renewed = await t.agent.ca.renewIfDue(async (csrPem) => {
      const chain = await gateway.sign(csrPem, 'test-device', hosts);
      return { intermediatePem: chain.certificatePem, orgRootPem: gateway.rootPem };
    });
    expect(renewed).toBe(true);
    expect(t.agent.status().ca).toMatchObject({ permittedDns: [ANTHROPIC, OPENAI], coverage: { uncovered: [], reason: null }, retrust: { pending: [], command: null } });
    expect(await fs.readFile(t.agent.ca.caFile, 'utf8')).toBe(caBefore);
    expect(await callThrough(t, org.certPem, ANTHROPIC)).toBe(200);
    expect(await t.agent.ca.renewIfDue(org.signer())).toBe(false);
  });
});

describe('fleet mode: the intermediate renewed over sync', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    tmp = await tempDir('outpost-fleet-renew-');
  });
  afterAll(async () => tmp?.cleanup());

  it('renews a third of the way before expiry and serves the new intermediate in the chain', async () => {
    const org = await createOrgRoot();
    let now = Date.now();
    const config = resolveAgentConfig(agentConfig.parse({ home: tmp.dir, ca: { mode: 'fleet', keyStore: 'file' } }), tmp.dir, null, {});
    const policy = policySchema.parse({ version: 1, name: 'p', interception: { hosts: [OPENAI] } });
    const ca = await openCertificateAuthority(config, policy, { stores: async () => [], now: () => now });
    const signer = (): ReturnType<OrgRoot['signer']> => org.signer({ permittedDns: [OPENAI], notBefore: new Date(now - 3_600_000) });
    expect(await ca.renewIfDue(signer())).toBe(true);
    const first = ca.fleet?.ca?.certPem;
    now += 19 * DAY;
    expect(await ca.renewIfDue(signer())).toBe(false);
    now += 2 * DAY;
    expect(await ca.renewIfDue(signer())).toBe(true);
    const second = ca.fleet?.ca?.certPem ?? '';
    expect(second).not.toBe(first);
    const leaf = await ca.source.issue(OPENAI);
    const [, served] = fromPem(leaf.certPem, 'CERTIFICATE');
    expect(served?.equals(new X509Certificate(second).raw)).toBe(true);
    expect(ca.pendingTrust()).toEqual([]);
  });
});
