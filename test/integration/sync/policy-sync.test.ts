/**
 * Signed policy, end to end with a real gateway and a real agent: once enrolled, the gateway's
 * policy supersedes the local file and governs real requests; it is kept in the store and enforced
 * at the next start without the gateway; a policy signed by another key than the pinned one is
 * refused, the last good policy stays, and the refusal is reported in `/v1/status` and to the
 * gateway's device list.
 */
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { chatThrough } from '../../support/clients.js';
import { createTestCa, type TestCa } from '../../support/test-ca.js';
import { startFakeProvider, type FakeProvider } from '../../support/fake-provider.js';
import { connected, enrolledHome, policyHandled, startSyncedAgent, syncOf } from './support.js';
import type { TestAgent } from '../../support/agent.js';

const GATEWAY_POLICY = { version: 1, name: 'fleet-policy', interception: { hosts: ['api.openai.com'] }, defaults: { requireVirtualKey: true } };

describe('signed policy from the gateway', () => {
  let gw: TestGateway;
  let ca: TestCa;
  let provider: FakeProvider;
  const homes: string[] = [];

  beforeAll(async () => {
    gw = await startTestGateway();
    ca = await createTestCa();
    provider = await startFakeProvider({ ca });
  });
  afterAll(async () => {
    await gw?.close();
    await provider?.close();
    await ca?.dispose();
    for (const h of homes) await fs.rm(h, { recursive: true, force: true });
  });

  async function agentIn(home: string): Promise<TestAgent> {
    return startSyncedAgent(home, { provider: { provider, ca }, policy: { version: 1, name: 'local-file', interception: { hosts: ['api.openai.com'] } } });
  }

  it('supersedes the local policy file, governs requests, and is enforced at the next start without the gateway', async () => {
    const home = await enrolledHome(gw);
    homes.push(home);
    let t = await agentIn(home);
    try {
      const sync = syncOf(t);
      await connected(sync);
      expect(t.agent.policy().source).toContain('policy.json');
      const route = { proxyUrl: t.proxyUrl, ca: t.caPem };
      expect((await chatThrough(route, 'hello')).status).toBe(200);

      const handled = policyHandled(sync, 1);
      const put = await gw.admin('PUT', '/admin/v1/policy', GATEWAY_POLICY);
      expect(put.status).toBe(200);
      expect(await handled).toBe('applied');
      expect(t.agent.policy()).toMatchObject({ source: 'gateway (signed v1)', policy: { name: 'fleet-policy' } });
      // The gateway's policy governs: a request without a virtual key is refused now.
      const refused = await chatThrough(route, 'hello');
      expect(refused.status).toBe(401);

      // The local file no longer matters once the signed policy is in force.
      await fs.writeFile(path.join(home, 'policy.json'), JSON.stringify({ version: 9, name: 'edited-locally', interception: { hosts: ['api.openai.com'] } }));
      const status: any = await (await fetch(`${t.agent.control.url}/v1/status`, { headers: { authorization: `Bearer ${(await fs.readFile(path.join(home, 'control.token'), 'utf8')).trim()}` } })).json();
      expect(status.gateway).toMatchObject({ state: 'connected', policyVersion: 1, policyRejected: null });
      expect(status.policy.name).toBe('fleet-policy');
    } finally {
      await t.stopAgent();
    }

    // Offline restart: the gateway is unreachable, the kept signed policy is verified and enforced.
    await gw.gateway.hub.close();
    t = await agentIn(home);
    try {
      expect(t.agent.policy()).toMatchObject({ source: 'gateway (signed v1), kept offline', policy: { name: 'fleet-policy' } });
      expect((await chatThrough({ proxyUrl: t.proxyUrl, ca: t.caPem }, 'hello')).status).toBe(401);
    } finally {
      await t.stopAgent();
    }
  });
});

describe('a policy the agent must refuse', () => {
  let gw: TestGateway;
  let home: string;

  beforeAll(async () => {
    gw = await startTestGateway();
    home = await enrolledHome(gw);
  });
  afterAll(async () => {
    await gw?.close();
    if (home) await fs.rm(home, { recursive: true, force: true });
  });

  it('signed by another key than the pinned one: refused, last good policy kept, reported in status and to the gateway', async () => {
    // The pinned key no longer matches the gateway's signing key (a gateway whose key was swapped).
    const file = path.join(home, 'gateway', 'enrollment.json');
    const enrollment = JSON.parse(await fs.readFile(file, 'utf8'));
    enrollment.gatewayPublicKeyPem = crypto.generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    await fs.writeFile(file, JSON.stringify(enrollment));

    await gw.admin('PUT', '/admin/v1/policy', GATEWAY_POLICY);
    const t = await startSyncedAgent(home, { policy: { version: 1, name: 'local-file', interception: { hosts: ['api.openai.com'] } } });
    try {
      const sync = syncOf(t);
      const outcome = await policyHandled(sync, 1);
      expect(outcome).toBe('refused');
      expect(t.agent.policy().policy.name).toBe('local-file');
      const status = t.agent.status();
      expect(status.gateway?.policyRejected).toEqual({ version: 1, reason: 'the signature does not verify against the gateway key pinned at enrollment' });
      expect(status.degraded.join('\n')).toContain('signed policy v1 was refused');
      // The gateway's device list shows the refusal once it has the agent's status message (each
      // read is a round trip to the gateway, which handles the agent's messages in order).
      let rejected: unknown = null;
      for (let i = 0; i < 1000 && rejected === null; i++) {
        const devices = await gw.admin('GET', '/admin/v1/devices');
        rejected = (devices.body.devices as Array<{ id: string; policyRejected: unknown }>).find((d) => d.id === sync.status().deviceId)?.policyRejected ?? null;
      }
      expect(rejected).toEqual({ version: 1, reason: 'the signature does not verify against the gateway key pinned at enrollment' });
    } finally {
      await t.close();
    }
  });
});
