import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { verifyPolicySignature } from '../../../shared/protocol/policy-signature.js';
import { CLOSE_CODES, MAX_MESSAGE_BYTES, PROTOCOL_V, PROTOCOL_VERSION } from '../../../shared/schema/protocol.js';
import { exampleFile } from '../../support/repo.js';
import { makeChain } from '../../support/audit-entries.js';
import { OK_STATUS, SimAgent, startTestGateway, type TestGateway } from '../../support/gateway.js';

let gw: TestGateway;
let examplePolicy: Record<string, unknown>;

beforeAll(async () => {
  gw = await startTestGateway();
  examplePolicy = JSON.parse(await fs.readFile(exampleFile('policy.json'), 'utf8')) as Record<string, unknown>;
  await gw.admin('PUT', '/admin/v1/policy', examplePolicy);
});
afterAll(() => gw.close());

describe('agent sync over the WebSocket', () => {
  it('on connect: welcome, the signed policy the agent lacks, and its audit ack; the device shows online', async () => {
    const device = await gw.enroll();
    const agent = await SimAgent.connect(gw.url, device);
    const welcome = agent.received.find((m) => m.type === 'welcome');
    expect(welcome).toMatchObject({ v: PROTOCOL_V, maxBatchRecords: 500, maxMessageBytes: MAX_MESSAGE_BYTES });
    const policy = await agent.next('policy');
    expect(policy.version).toBe(1);
    expect(verifyPolicySignature(crypto.createPublicKey(device.gatewayPublicKeyPem), policy)).toBe(true);
    expect((await agent.next('audit.ack')).seq).toBe(0);
    const row = (await gw.admin('GET', '/admin/v1/devices')).body.devices.find((d: { id: string }) => d.id === device.deviceId);
    expect(row).toMatchObject({ online: true, caMode: 'standalone', caTrusted: true, paused: false });
    agent.close();
    await agent.closed;
  });

  it('does not resend a policy the agent already enforces', async () => {
    const device = await gw.enroll();
    const agent = await SimAgent.connect(gw.url, device, { policyVersion: 1 });
    await agent.next('audit.ack');
    expect(agent.received.some((m) => m.type === 'policy')).toBe(false);
    agent.close();
  });

  it('pushes a new policy version to every connected agent when the admin puts it', async () => {
    const devices = await Promise.all([gw.enroll(), gw.enroll(), gw.enroll()]);
    const agents = await Promise.all(devices.map((d) => SimAgent.connect(gw.url, d, { policyVersion: 1 })));
    const put = await gw.admin('PUT', '/admin/v1/policy', { ...examplePolicy, failMode: 'closed' });
    const pushed = await Promise.all(agents.map((a) => a.until('policy', (m) => m.version === put.body.version)));
    for (const p of pushed) expect((p.document as { failMode: string }).failMode).toBe('closed');
    for (const a of agents) a.close();
  });

  it('stores a batch once whatever the retries, and acknowledges only the contiguous sequence', async () => {
    const device = await gw.enroll();
    const agent = await SimAgent.connect(gw.url, device);
    const chain = makeChain(10, 1, undefined, { device: device.deviceId });
    agent.send({ v: PROTOCOL_V, type: 'audit.batch', records: chain.slice(0, 4) });
    expect((await agent.until('audit.ack', (m) => m.seq > 0)).seq).toBe(4);
    // A retry of the same records, and a batch after a gap: stored, but the ack waits for the gap.
    agent.send({ v: PROTOCOL_V, type: 'audit.batch', records: chain.slice(0, 4) });
    expect((await agent.next('audit.ack')).seq).toBe(4);
    agent.send({ v: PROTOCOL_V, type: 'audit.batch', records: chain.slice(6, 10) });
    expect((await agent.next('audit.ack')).seq).toBe(4);
    agent.send({ v: PROTOCOL_V, type: 'audit.batch', records: chain.slice(4, 6) });
    expect((await agent.next('audit.ack')).seq).toBe(10);
    const stored = await gw.admin('GET', `/admin/v1/audit?device=${device.deviceId}&limit=1000`);
    expect(stored.body.records).toHaveLength(10);
    expect(new Set(stored.body.records.map((r: { id: string }) => r.id)).size).toBe(10);
    const row = (await gw.admin('GET', '/admin/v1/devices')).body.devices.find((d: { id: string }) => d.id === device.deviceId);
    expect(row).toMatchObject({ auditAckSeq: 10, chainProblem: null });
    agent.close();
    // Reconnecting, the agent learns what is stored and can drop those records.
    const again = await SimAgent.connect(gw.url, device);
    expect((await again.next('audit.ack')).seq).toBe(10);
    again.close();
  });

  it('verifies each device chain and flags an altered record', async () => {
    const device = await gw.enroll();
    const agent = await SimAgent.connect(gw.url, device);
    const chain = makeChain(3);
    chain[1] = { ...chain[1]!, costUsd: 99 };
    agent.send({ v: PROTOCOL_V, type: 'audit.batch', records: chain });
    expect((await agent.until('audit.ack', (m) => m.seq > 0)).seq).toBe(3);
    const row = (await gw.admin('GET', '/admin/v1/devices')).body.devices.find((d: { id: string }) => d.id === device.deviceId);
    expect(row.chainProblem).toMatch(/record 2 does not match its hash/);
    agent.close();
  });

  it('refuses a connection without a valid credential before any WebSocket exists', async () => {
    await expect(SimAgent.open(gw.url, { deviceId: 'dev-nobody-000', credential: 'opd_forged' })).rejects.toMatchObject({ status: 401 });
    const ws = new WebSocket(`${gw.url.replace('http', 'ws')}/v1/agents/connect`);
    const status = await new Promise<number | undefined>((resolve) => ws.once('unexpected-response', (_q, res) => resolve(res.statusCode)));
    expect(status).toBe(401);
  });

  it('closes a malformed, oversized, out-of-order or mismatched conversation with a clear code, and stays up', async () => {
    const device = await gw.enroll();
    const cases: Array<[unknown, number, RegExp]> = [
      ['{not json', CLOSE_CODES.badMessage, /not JSON/],
      [{ v: PROTOCOL_V, type: 'audit.batch', records: makeChain(1) }, CLOSE_CODES.unexpectedHello, /expected hello first/],
      [{ v: PROTOCOL_V, type: 'hello', deviceId: 'dev-someone-else', agentVersion: '1', policyVersion: null, lastAckedSeq: 0, status: OK_STATUS }, CLOSE_CODES.unexpectedHello, /another device/],
      [{ v: '9.0', type: 'hello' }, CLOSE_CODES.unsupportedVersion, /protocol 9\.0/],
      [{ v: PROTOCOL_V, type: 'hello', deviceId: device.deviceId, agentVersion: '1', policyVersion: 0, lastAckedSeq: 0, status: OK_STATUS }, CLOSE_CODES.badMessage, /\$\.policyVersion/],
      ['x'.repeat(MAX_MESSAGE_BYTES + 1), CLOSE_CODES.tooLarge, /.*/],
    ];
    for (const [message, code, reason] of cases) {
      const agent = await SimAgent.open(gw.url, device);
      agent.send(message);
      const closed = await agent.closed;
      expect(closed.code).toBe(code);
      expect(closed.reason).toMatch(reason);
    }
    // After a bad message from one agent in the middle of a session, the others carry on.
    const good = await SimAgent.connect(gw.url, device);
    good.send({ v: PROTOCOL_V, type: 'audit.batch', records: [{ ...makeChain(1)[0], decision: 'maybe' }] });
    const closed = await good.closed;
    expect(closed).toMatchObject({ code: CLOSE_CODES.badMessage });
    expect(closed.reason).toContain('$.records.0.decision');
    const other = await SimAgent.connect(gw.url, await gw.enroll());
    expect(other.received[0]?.type).toBe('welcome');
    other.close();
  });

  it('talks with an agent one minor version newer (extra fields, unknown message types)', async () => {
    const device = await gw.enroll();
    const newer = `${PROTOCOL_VERSION.major}.${PROTOCOL_VERSION.minor + 1}`;
    const agent = await SimAgent.open(gw.url, device);
    agent.send({ v: newer, type: 'hello', deviceId: device.deviceId, agentVersion: '0.2.0', policyVersion: 1, lastAckedSeq: 0, status: { ...OK_STATUS, battery: 0.4 }, features: ['x'] });
    await agent.next('welcome');
    agent.send({ v: newer, type: 'inventory.report', apps: [] });
    agent.send({ v: newer, type: 'audit.batch', records: makeChain(2) });
    expect((await agent.until('audit.ack', (m) => m.seq > 0)).seq).toBe(2);
    agent.close();
  });

  it('replaces an older connection of the same device', async () => {
    const device = await gw.enroll();
    const first = await SimAgent.connect(gw.url, device);
    const second = await SimAgent.connect(gw.url, device);
    expect((await first.closed).code).toBe(CLOSE_CODES.replaced);
    second.close();
  });
});

describe('device status and liveness', () => {
  it('shows what the agent reports: the policy it applied, a policy it refused and why, pause and degradation', async () => {
    const device = await gw.enroll();
    const agent = await SimAgent.connect(gw.url, device);
    agent.send({ v: PROTOCOL_V, type: 'status', policyVersion: 1, status: { ...OK_STATUS, paused: true, degraded: ['the CA is not trusted by Firefox'], policyRejected: { version: 2, reason: 'bad signature' } } });
    await expect
      .poll(async () => (await gw.admin('GET', '/admin/v1/devices')).body.devices.find((d: { id: string }) => d.id === device.deviceId))
      .toMatchObject({ policyVersion: 1, paused: true, degraded: ['the CA is not trusted by Firefox'], policyRejected: { version: 2, reason: 'bad signature' } });
    agent.close();
    await agent.closed;
    await expect.poll(async () => (await gw.admin('GET', '/admin/v1/devices')).body.devices.find((d: { id: string }) => d.id === device.deviceId).online).toBe(false);
  });
});
