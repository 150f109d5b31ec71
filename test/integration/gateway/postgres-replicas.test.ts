import fs from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_V } from '../../../shared/schema/protocol.js';
import { periodStart } from '../../../shared/core/periods.js';
import { exampleFile } from '../../support/repo.js';
import { makeChain } from '../../support/audit-entries.js';
import { SimAgent, startTestGateway, type TestGateway } from '../../support/gateway.js';
import { startTestPostgres, type TestPostgres } from '../../support/postgres.js';

let pgServer: TestPostgres;
let a: TestGateway;
let b: TestGateway;
let examplePolicy: Record<string, unknown>;

beforeAll(async () => {
  pgServer = await startTestPostgres();
  const url = await pgServer.createDatabase();
  examplePolicy = JSON.parse(await fs.readFile(exampleFile('policy.json'), 'utf8')) as Record<string, unknown>;
  // Two replicas on one database, each with its own home (as two hosts would), one admin token.
  const shared = { store: { kind: 'postgres' as const, url }, adminToken: 'replicas-share-this-admin-token' };
  [a, b] = await Promise.all([startTestGateway(shared), startTestGateway(shared)]);
}, 120_000);
afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
  await pgServer?.stop();
});

describe('two gateway replicas on one PostgreSQL database', () => {
  it('a policy put on replica A reaches an agent connected to replica B', async () => {
    const device = await a.enroll();
    const onB = await SimAgent.connect(b.url, device);
    const put = await a.admin('PUT', '/admin/v1/policy', examplePolicy);
    expect(put.status).toBe(200);
    const pushed = await onB.until('policy', (m) => m.version === put.body.version);
    expect((pushed.document as { name: string }).name).toBe('acme-default');
    // Versions stay one sequence whichever replica writes.
    const put2 = await b.admin('PUT', '/admin/v1/policy', { ...examplePolicy, failMode: 'closed' });
    expect(put2.body.version).toBe(put.body.version + 1);
    onB.close();
  });

  it('a command issued on A reaches agents on B; a device revoked on A is refused by B', async () => {
    const device = await b.enroll();
    const onB = await SimAgent.connect(b.url, device);
    const sent = await a.admin('POST', '/admin/v1/commands', { scope: { kind: 'device', deviceId: device.deviceId }, action: { kind: 'kill-switch', mode: 'block-ai' } });
    expect((await onB.until('command', (m) => m.id === sent.body.id)).action).toEqual({ kind: 'kill-switch', mode: 'block-ai' });
    await a.admin('POST', '/admin/v1/commands', { scope: { kind: 'device', deviceId: device.deviceId }, action: { kind: 'revoke-device' } });
    expect((await onB.closed).code).toBe(4003);
    await expect(SimAgent.open(b.url, device)).rejects.toMatchObject({ status: 403 });
  });

  it('budget spend reported on A and on B adds up, and both replicas\' agents hear the total', async () => {
    const onA = await SimAgent.connect(a.url, await a.enroll());
    const onB = await SimAgent.connect(b.url, await b.enroll());
    const window = { id: 'shared-budget', period: '1d' as const, windowStart: periodStart('1d', Date.now()) };
    onA.send({ v: PROTOCOL_V, type: 'usage.report', windows: [{ ...window, spentUsd: 1.25 }] });
    onB.send({ v: PROTOCOL_V, type: 'usage.report', windows: [{ ...window, spentUsd: 0.75 }] });
    const total = (m: { windows: Array<{ id: string; fleetSpentUsd: number }> }): number => m.windows.find((w) => w.id === window.id)?.fleetSpentUsd ?? 0;
    const [sa, sb] = await Promise.all([onA.until('budget.state', (m) => total(m) === 2), onB.until('budget.state', (m) => total(m) === 2)]);
    expect(sa.windows.find((w) => w.id === window.id)?.deviceSpentUsd).toBe(1.25);
    expect(sb.windows.find((w) => w.id === window.id)?.deviceSpentUsd).toBe(0.75);
    onA.close();
    onB.close();
  });

  it('a batch sent to both replicas (a reconnect to the other one) is stored once', async () => {
    const device = await a.enroll();
    const chain = makeChain(20);
    const onA = await SimAgent.connect(a.url, device);
    onA.send({ v: PROTOCOL_V, type: 'audit.batch', records: chain.slice(0, 12) });
    expect((await onA.until('audit.ack', (m) => m.seq > 0)).seq).toBe(12);
    onA.close();
    const onB = await SimAgent.connect(b.url, device);
    expect((await onB.next('audit.ack')).seq).toBe(12);
    onB.send({ v: PROTOCOL_V, type: 'audit.batch', records: chain.slice(5, 20) });
    expect((await onB.until('audit.ack', (m) => m.seq > 12)).seq).toBe(20);
    const stored = await a.admin('GET', `/admin/v1/audit?device=${device.deviceId}&limit=1000`);
    expect(stored.body.records).toHaveLength(20);
    const row = (await b.admin('GET', '/admin/v1/devices')).body.devices.find((d: { id: string }) => d.id === device.deviceId);
    expect(row).toMatchObject({ auditAckSeq: 20, chainProblem: null });
    expect((await b.admin('GET', '/admin/v1/spend?by=principal')).body.rows[0]).toMatchObject({ key: 'vk:team-a', requests: 20 });
    onB.close();
  });
});
