/**
 * Fleet CA mode end to end: an agent in `ca.mode: fleet` enrolls with a gateway that holds the
 * organisation root (its CSR signed into a name-constrained intermediate at enrollment), then, when
 * the signed policy adds a host, renews the intermediate over sync (`ca.renew`) so that a real
 * client trusting only the organisation root reaches the new host through the agent.
 */
import { once } from 'node:events';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { anthropicClient, chatThrough } from '../../support/clients.js';
import { createOrgRoot, type OrgRoot } from '../ca/org-root.js';
import type { TestAgent } from '../../support/agent.js';
import { connected, enrolledHome, policyHandled, startSyncedAgent, syncOf } from './support.js';

describe('fleet CA over sync', () => {
  let dir: string;
  let org: OrgRoot;
  let gw: TestGateway;
  let home: string;
  let t: TestAgent;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-sync-fleet-ca-'));
    org = await createOrgRoot();
    await fs.writeFile(path.join(dir, 'org.pem'), org.certPem);
    await fs.writeFile(path.join(dir, 'org.key'), org.keyPem, { mode: 0o600 });
    gw = await startTestGateway({ fleetCa: { certFile: path.join(dir, 'org.pem'), keyFile: path.join(dir, 'org.key') } });
    await gw.admin('PUT', '/admin/v1/policy', { version: 1, name: 'fleet', interception: { hosts: ['api.openai.com'] } });
    home = await enrolledHome(gw, { caMode: 'fleet' });
    t = await startSyncedAgent(home, { config: { ca: { keyStore: 'file', mode: 'fleet' } } });
    await connected(syncOf(t));
    await policyHandled(syncOf(t), 1);
  });
  afterAll(async () => {
    await t?.close();
    await gw?.close();
    for (const d of [dir, home]) if (d) await fs.rm(d, { recursive: true, force: true });
  });

  it('enrolls with an intermediate for the policy\'s hosts and renews it over sync when the policy adds one', async () => {
    expect(t.agent.ca.source.issuingCa?.permittedDns).toEqual(['api.openai.com']);
    expect((await chatThrough({ proxyUrl: t.proxyUrl, ca: org.certPem }, 'hello')).status).toBe(200);

    const sync = syncOf(t);
    await gw.admin('PUT', '/admin/v1/policy', { version: 1, name: 'fleet', interception: { hosts: ['api.openai.com', 'api.anthropic.com'] } });
    expect(await policyHandled(sync, 2)).toBe('applied');
    // Renewed over sync once the new policy is in force (each check emits `ca`).
    while (t.agent.ca.coverage().uncovered.length > 0) await once(sync, 'ca');
    expect(t.agent.ca.source.issuingCa?.permittedDns).toEqual(['api.anthropic.com', 'api.openai.com']);

    // A client trusting only the organisation root reaches the new host through the agent.
    const claude = anthropicClient({ proxyUrl: t.proxyUrl, ca: org.certPem, maxRetries: 0 });
    try {
      const answer = await claude.client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 50, messages: [{ role: 'user', content: 'hello' }] });
      expect(answer.type).toBe('message');
    } finally {
      await claude.close();
    }
  });
});
