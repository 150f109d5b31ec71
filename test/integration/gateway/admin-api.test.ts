import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPolicySignature } from '../../../shared/protocol/policy-signature.js';
import { policy as policySchema } from '../../../shared/schema/policy.js';
import { exampleFile } from '../../support/repo.js';
import { enrollDevice, startTestGateway, type TestGateway } from '../../support/gateway.js';

let gw: TestGateway;
let examplePolicy: Record<string, unknown>;

beforeAll(async () => {
  gw = await startTestGateway();
  examplePolicy = JSON.parse(await fs.readFile(exampleFile('policy.json'), 'utf8')) as Record<string, unknown>;
});
afterAll(() => gw.close());

describe('admin API', () => {
  it('creates the admin token on first start, readable only by the owner, and refuses any other token', async () => {
    const file = path.join(gw.home, 'admin.token');
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    expect((await fs.readFile(file, 'utf8')).trim()).toBe(gw.gateway.adminToken);
    expect((await gw.admin('GET', '/admin/v1/devices', undefined, 'wrong-token-of-some-length')).status).toBe(401);
    const bare = await fetch(`${gw.url}/admin/v1/devices`);
    expect(bare.status).toBe(401);
    expect(((await bare.json()) as { error: { code: string } }).error.code).toBe('unauthenticated');
  });

  it('uses the token the config names instead of making one', async () => {
    const named = await startTestGateway({ adminToken: 'a-configured-admin-token-123' });
    try {
      expect((await named.admin('GET', '/admin/v1/devices', undefined, 'a-configured-admin-token-123')).status).toBe(200);
      await expect(fs.stat(path.join(named.home, 'admin.token'))).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      await named.close();
    }
  });

  it('refuses an invalid policy naming every bad field, and accepts nothing', async () => {
    const bad = await gw.admin('PUT', '/admin/v1/policy', { ...examplePolicy, failMode: 'sometimes', guardrails: [{ id: 'x', type: 'nope' }] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_request');
    const paths = (bad.body.error.problems as Array<{ path: string }>).map((p) => p.path);
    expect(paths).toContain('$.failMode');
    expect(paths.some((p) => p.startsWith('$.guardrails[0]'))).toBe(true);
    expect((await gw.admin('PUT', '/admin/v1/policy', '{"not json')).body.error.code).toBe('invalid_json');
    expect((await gw.admin('GET', '/admin/v1/policy')).status).toBe(404);
  });

  it('signs each version, hashes plain virtual keys, lists versions and rolls back as a new version', async () => {
    const put1 = await gw.admin('PUT', '/admin/v1/policy', examplePolicy);
    expect(put1.status).toBe(200);
    expect(put1.body.version).toBe(1);
    const put2 = await gw.admin('PUT', '/admin/v1/policy', { ...examplePolicy, failMode: 'closed' });
    expect(put2.body.version).toBe(2);

    const current = await gw.admin('GET', '/admin/v1/policy');
    expect(current.body.version).toBe(2);
    expect(current.body.document.version).toBe(2);
    expect(current.body.document.failMode).toBe('closed');
    const pinned = crypto.createPublicKey(gw.gateway.signingPublicKeyPem);
    expect(verifyPolicySignature(pinned, current.body)).toBe(true);
    // The plain key never leaves the gateway: only its hash is signed and sent.
    expect(current.text).not.toContain('ovk-eng-4f9c2a7e1b');
    const vk = current.body.document.virtualKeys[0];
    expect(vk.keySha256).toBe(crypto.createHash('sha256').update('ovk-eng-4f9c2a7e1b').digest('hex'));
    expect(policySchema.safeParse(current.body.document).success).toBe(true);

    const rolled = await gw.admin('POST', '/admin/v1/policy/rollback', { version: 1 });
    expect(rolled.body.version).toBe(3);
    const after = await gw.admin('GET', '/admin/v1/policy');
    expect(after.body.document.failMode).toBe('open');
    expect(after.body.document.version).toBe(3);
    const versions = await gw.admin('GET', '/admin/v1/policy/versions');
    expect(versions.body.versions.map((v: { version: number; origin: string }) => [v.version, v.origin])).toEqual([
      [3, 'rollback to 1'],
      [2, 'put'],
      [1, 'put'],
    ]);
    expect((await gw.admin('POST', '/admin/v1/policy/rollback', { version: 99 })).status).toBe(404);
    const badRollback = await gw.admin('POST', '/admin/v1/policy/rollback', { version: 'one' });
    expect(badRollback.body.error.problems[0].path).toBe('$.version');
  });

  it('enrollment tokens work once, expire, bind a team, and the device appears in the list', async () => {
    const t = await gw.admin('POST', '/admin/v1/enrollment-tokens', { team: 'engineering', expiresInMinutes: 5 });
    expect(t.status).toBe(201);
    const device = await enrollDevice(gw.url, t.body.token, 'ada-laptop');
    expect(device.team).toBe('engineering');
    expect(device.gatewayPublicKeyPem).toBe(gw.gateway.signingPublicKeyPem);
    await expect(enrollDevice(gw.url, t.body.token)).rejects.toThrow(/401.*invalid_token/);

    const list = await gw.admin('GET', '/admin/v1/devices');
    const row = list.body.devices.find((d: { id: string }) => d.id === device.deviceId);
    expect(row).toMatchObject({ hostname: 'ada-laptop', osUser: 'ada', os: 'linux 6.8', agentVersion: '0.1.0', team: 'engineering', online: false, revoked: false, policyVersion: null, lastSeen: null });

    const bad = await gw.admin('POST', '/admin/v1/enrollment-tokens', { expiresInMinutes: 0, colour: 'red' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.problems.map((p: { path: string }) => p.path).sort()).toEqual(['$', '$.expiresInMinutes']);
    const badEnroll = await fetch(`${gw.url}/v1/agents/enroll`, { method: 'POST', body: JSON.stringify({ token: 'x'.repeat(20), device: { hostname: '' } }) });
    expect(badEnroll.status).toBe(400);
    const err = (await badEnroll.json()) as { error: { problems: Array<{ path: string }> } };
    expect(err.error.problems.map((p) => p.path)).toContain('$.device.hostname');
  });

  it('refuses an expired enrollment token', async () => {
    const t = await gw.admin('POST', '/admin/v1/enrollment-tokens', { expiresInMinutes: 1 });
    // Expire it in the store (a minute is the smallest lifetime the API grants).
    const db = (await import('better-sqlite3')).default(path.join(gw.home, 'gateway.db'));
    db.prepare('UPDATE enrollment_tokens SET expires_at = ?').run(new Date(Date.now() - 1000).toISOString());
    db.close();
    await expect(enrollDevice(gw.url, t.body.token)).rejects.toThrow(/401.*invalid_token/);
  });

  it('keeps a retention setting, validated', async () => {
    expect((await gw.admin('GET', '/admin/v1/settings/retention')).body.days).toBe(365);
    expect((await gw.admin('PUT', '/admin/v1/settings/retention', { days: 90 })).status).toBe(200);
    expect((await gw.admin('GET', '/admin/v1/settings/retention')).body.days).toBe(90);
    const bad = await gw.admin('PUT', '/admin/v1/settings/retention', { days: -1 });
    expect(bad.body.error.problems[0].path).toBe('$.days');
  });

  it('writes every admin action to the admin audit trail, without tokens', async () => {
    const trail = await gw.admin('GET', '/admin/v1/admin-audit');
    const actions = (trail.body.events as Array<{ action: string }>).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['policy.put', 'policy.rollback', 'enrollment-token.create', 'device.enrolled', 'settings.retention']));
    expect(trail.text).not.toMatch(/opt_|opd_|opa_/);
  });

  it('answers 404 and 405 in the API error shape', async () => {
    expect((await gw.admin('GET', '/admin/v1/nothing')).body.error.code).toBe('not_found');
    expect((await gw.admin('DELETE', '/admin/v1/policy')).body.error.code).toBe('method_not_allowed');
  });
});
