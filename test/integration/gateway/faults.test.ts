import { afterEach, describe, expect, it } from 'vitest';
import { PROTOCOL_V } from '../../../shared/schema/protocol.js';
import { makeChain } from '../../support/audit-entries.js';
import { SimAgent, capturedLogger, startTestGateway, type TestGateway } from '../../support/gateway.js';
import { canMount, mountSmallFs, type SmallFs } from '../audit/small-fs.js';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe('gateway faults', () => {
  it('logs a malformed message with its close code and never the device credential; the others carry on', async () => {
    const log = capturedLogger();
    const gw = await startTestGateway({}, { logger: log.logger });
    cleanup.push(() => gw.close());
    const device = await gw.enroll();
    const bad = await SimAgent.connect(gw.url, device);
    bad.send({ v: PROTOCOL_V, type: 'audit.batch', records: 'many' });
    expect((await bad.closed).code).toBe(4000);
    await log.waitFor('malformed message from agent');
    const line = log.lines.find((l) => l.includes('malformed message from agent'))!;
    expect(JSON.parse(line)).toMatchObject({ device: device.deviceId, code: 4000, reason: expect.stringContaining('$.records') });
    await expect(SimAgent.open(gw.url, { deviceId: 'dev-x', credential: 'opd_wrong' })).rejects.toMatchObject({ status: 401 });
    await log.waitFor('agent connection without a valid device credential');
    const good = await SimAgent.connect(gw.url, await gw.enroll());
    good.close();
    expect(log.lines.join('')).not.toContain(device.credential);
    expect(log.lines.join('')).not.toContain(gw.gateway.adminToken);
  });

  it('a gateway restart between pushes: the agent reconnects and gets the version it missed', async () => {
    const first = await startTestGateway();
    const home = first.home;
    const device = await first.enroll();
    const agent = await SimAgent.connect(first.url, device);
    await first.admin('PUT', '/admin/v1/policy', { version: 1, name: 'one' });
    expect((await agent.next('policy')).version).toBe(1);
    await first.gateway.close();
    expect((await agent.closed).code).toBe(1001);
    // The same home: same store, same signing key, same admin token; a policy put while the agent is away.
    const second = await startTestGateway({ home });
    cleanup.push(() => second.close());
    await second.admin('PUT', '/admin/v1/policy', { version: 1, name: 'two' });
    const back = await SimAgent.connect(second.url, device, { policyVersion: 1 });
    const missed = await back.next('policy');
    expect(missed.version).toBe(2);
    expect((missed.document as { name: string }).name).toBe('two');
    back.close();
  });

  it('a connection cut mid-batch: the reconnect learns what was stored, the resend duplicates nothing', async () => {
    const gw = await startTestGateway();
    cleanup.push(() => gw.close());
    const device = await gw.enroll();
    const chain = makeChain(300);
    const agent = await SimAgent.connect(gw.url, device);
    agent.send({ v: PROTOCOL_V, type: 'audit.batch', records: chain.slice(0, 150) });
    agent.send({ v: PROTOCOL_V, type: 'audit.batch', records: chain.slice(150) });
    agent.ws.terminate();
    await agent.closed;
    const again = await SimAgent.connect(gw.url, device);
    const stored = (await again.next('audit.ack')).seq;
    expect([0, 150, 300]).toContain(stored);
    again.send({ v: PROTOCOL_V, type: 'audit.batch', records: stored < 300 ? chain.slice(stored) : chain.slice(-1) });
    expect((await again.until('audit.ack', (m) => m.seq === 300)).seq).toBe(300);
    const rows = await gw.admin('GET', `/admin/v1/audit?device=${device.deviceId}&limit=1000`);
    expect(new Set(rows.body.records.map((r: { id: string }) => r.id)).size).toBe(300);
    expect(rows.body.records).toHaveLength(300);
    again.close();
  });

  it.skipIf(!canMount)('a full disk at the gateway: no ack (the agent keeps its records), then everything once space returns', async () => {
    const disk: SmallFs = mountSmallFs(4096);
    cleanup.push(() => disk.unmount());
    const log = capturedLogger();
    const gw: TestGateway = await startTestGateway({ home: disk.dir }, { logger: log.logger });
    cleanup.push(() => gw.close());
    const device = await gw.enroll();
    const agent = await SimAgent.connect(gw.url, device);
    const chain = makeChain(60, 1, undefined, { prompt: 'x'.repeat(2000) });
    agent.send({ v: PROTOCOL_V, type: 'audit.batch', records: chain.slice(0, 20) });
    expect((await agent.until('audit.ack', (m) => m.seq > 0)).seq).toBe(20);

    disk.fill();
    agent.send({ v: PROTOCOL_V, type: 'audit.batch', records: chain.slice(20, 60) });
    await log.waitFor('cannot store audit batch; not acknowledging');
    expect(agent.received.filter((m) => m.type === 'audit.ack').map((m) => (m as { seq: number }).seq)).toEqual([0, 20]);

    disk.free();
    // The agent sends its unacknowledged records again.
    agent.send({ v: PROTOCOL_V, type: 'audit.batch', records: chain.slice(20, 60) });
    expect((await agent.until('audit.ack', (m) => m.seq > 20)).seq).toBe(60);
    const stored = await gw.admin('GET', `/admin/v1/audit?device=${device.deviceId}&limit=1000`);
    expect(stored.body.records).toHaveLength(60);
    expect(log.lines.join('')).not.toContain(device.credential);
    agent.close();
  });
});
