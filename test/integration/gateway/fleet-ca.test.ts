/**
 * Fleet CA mode at the gateway: the organisation root signs each device's intermediate from its CSR
 * at enrollment and over sync (`ca.renew`), name-constrained to the policy's hosts; the agent's own
 * `FleetAuthority` accepts what it signs.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetAuthority } from '../../../agent/ca/fleet-authority.js';
import { PROTOCOL_V } from '../../../shared/schema/protocol.js';
import { SimAgent, startTestGateway, type TestGateway } from '../../support/gateway.js';
import { createOrgRoot, type OrgRoot } from '../ca/org-root.js';
import { fileKeys } from '../ca/fixtures.js';

let dir: string;
let org: OrgRoot;
let gw: TestGateway;
const facts = { hostname: 'ada-laptop', osUser: 'ada', os: 'linux 6.8', arch: 'x64', agentVersion: '0.1.0' };

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-fleet-ca-'));
  org = await createOrgRoot();
  await fs.writeFile(path.join(dir, 'org.pem'), org.certPem);
  await fs.writeFile(path.join(dir, 'org.key'), org.keyPem, { mode: 0o600 });
  gw = await startTestGateway({ fleetCa: { certFile: path.join(dir, 'org.pem'), keyFile: path.join(dir, 'org.key') } });
  await gw.admin('PUT', '/admin/v1/policy', { version: 1, name: 'fleet', interception: { hosts: ['api.openai.com', '*.openai.azure.com'] } });
});
afterAll(async () => {
  await gw.close();
  await fs.rm(dir, { recursive: true, force: true });
});

async function enroll(url: string, token: string, csrPem?: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}/v1/agents/enroll`, { method: 'POST', body: JSON.stringify({ token, device: facts, ...(csrPem === undefined ? {} : { csrPem }) }) });
  return { status: res.status, body: await res.json() };
}

describe('fleet CA mode', () => {
  it('signs the device intermediate at enrollment, for the policy\'s hosts, and renews it over sync when the policy grows', async () => {
    const home = await fs.mkdtemp(path.join(dir, 'device-'));
    const authority = await FleetAuthority.open({ home, keys: await fileKeys(home), requireNameConstraints: true, deviceName: 'ada-laptop' });
    const token = (await gw.admin('POST', '/admin/v1/enrollment-tokens', {})).body.token as string;
    const enrolled = await enroll(gw.url, token, await authority.csr());
    expect(enrolled.status).toBe(201);
    expect(enrolled.body.intermediate.chainPem).toEqual([org.certPem]);
    const ca = await authority.install({ intermediatePem: enrolled.body.intermediate.certificatePem, orgRootPem: enrolled.body.intermediate.chainPem[0] });
    expect(ca.permittedDns).toEqual(['api.openai.com', 'openai.azure.com']);

    // The policy adds a host: the intermediate no longer covers it, and sync brings a new one.
    const hosts = ['api.openai.com', '*.openai.azure.com', 'api.anthropic.com'];
    await gw.admin('PUT', '/admin/v1/policy', { version: 1, name: 'fleet', interception: { hosts } });
    expect(authority.needsRenewal(hosts)).toBe(true);
    const agent = await SimAgent.connect(gw.url, { deviceId: enrolled.body.deviceId, credential: enrolled.body.credential });
    const renewed = await authority.renewIfDue(async (csrPem) => {
      agent.send({ v: PROTOCOL_V, type: 'ca.renew', csrPem });
      const answer = await agent.next('ca.intermediate');
      if (answer.intermediate === null) throw new Error(answer.error ?? 'refused');
      return { intermediatePem: answer.intermediate.certificatePem, orgRootPem: answer.intermediate.chainPem[0]! };
    }, hosts);
    expect(renewed?.permittedDns).toEqual(['api.anthropic.com', 'api.openai.com', 'openai.azure.com']);
    expect(authority.needsRenewal(hosts)).toBe(false);

    agent.send({ v: PROTOCOL_V, type: 'ca.renew', csrPem: '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n' });
    const refused = await agent.next('ca.intermediate');
    expect(refused.intermediate).toBeNull();
    expect(refused.error).toMatch(/CSR cannot be signed/);
    agent.close();
  });

  it('refuses an unreadable CSR naming the field, without spending the token', async () => {
    const token = (await gw.admin('POST', '/admin/v1/enrollment-tokens', {})).body.token as string;
    const bad = await enroll(gw.url, token, 'not a csr');
    expect(bad.status).toBe(400);
    expect(bad.body.error.problems[0].path).toBe('$.csrPem');
    expect((await enroll(gw.url, token)).status).toBe(201);
  });

  it('a gateway without an organisation CA answers 409 and keeps the token for a standalone enrollment', async () => {
    const plain = await startTestGateway();
    try {
      const home = await fs.mkdtemp(path.join(dir, 'device-'));
      const authority = await FleetAuthority.open({ home, keys: await fileKeys(home), requireNameConstraints: true });
      const token = (await plain.admin('POST', '/admin/v1/enrollment-tokens', {})).body.token as string;
      const refused = await enroll(plain.url, token, await authority.csr());
      expect(refused).toMatchObject({ status: 409, body: { error: { code: 'fleet_ca_not_configured' } } });
      const standalone = await enroll(plain.url, token);
      expect(standalone.status).toBe(201);
      expect(standalone.body.intermediate).toBeUndefined();
      const agent = await SimAgent.connect(plain.url, { deviceId: standalone.body.deviceId, credential: standalone.body.credential });
      agent.send({ v: PROTOCOL_V, type: 'ca.renew', csrPem: await authority.csr() });
      expect((await agent.next('ca.intermediate')).error).toMatch(/no organisation CA/);
      agent.close();
    } finally {
      await plain.close();
    }
  });

  it('refuses to start with a key that does not belong to the root certificate', async () => {
    const other = await createOrgRoot();
    await fs.writeFile(path.join(dir, 'other.key'), other.keyPem);
    await expect(startTestGateway({ fleetCa: { certFile: path.join(dir, 'org.pem'), keyFile: path.join(dir, 'other.key') } })).rejects.toThrow(/does not belong/);
  });
});
