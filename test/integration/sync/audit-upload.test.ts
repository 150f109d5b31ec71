/**
 * Audit upload with acknowledgements, against a real gateway through a TCP relay the test can cut:
 * a connection cut in the middle of a batch frame, then the gateway down (the agent keeps enforcing
 * and keeps every record) and back on another port with the same store. Afterwards the gateway holds
 * exactly the agent's records: the same ids, each once (count check by id), and the agent's spool
 * is empty (everything acknowledged).
 */
import { once } from 'node:events';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capturedLogger, startTestGateway, type TestGateway } from '../../support/gateway.js';
import { canMount, mountSmallFs, type SmallFs } from '../audit/small-fs.js';
import { chatThrough } from '../../support/clients.js';
import { makeEntry } from '../../support/audit-entries.js';
import type { TestAgent } from '../../support/agent.js';
import { allAcknowledged, connected, enrolledHome, startRelay, startSyncedAgent, syncOf, type Relay } from './support.js';

describe('audit upload', () => {
  let gwHome: string;
  let gw: TestGateway;
  let relay: Relay;
  let home: string;
  let t: TestAgent;

  beforeAll(async () => {
    gwHome = await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-gw-upload-'));
    gw = await startTestGateway({ home: gwHome });
    relay = await startRelay(gw.url);
    home = await enrolledHome(gw, { url: relay.url });
    t = await startSyncedAgent(home, { policy: { version: 1, name: 'local', interception: { hosts: ['api.openai.com'] } }, start: { sync: { ackTimeoutMs: 2000 } } });
  });
  afterAll(async () => {
    await t?.close();
    await relay?.close();
    await gw?.close();
    for (const dir of [gwHome, home]) if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  async function gatewayIds(deviceId: string): Promise<string[]> {
    const res = await gw.admin('GET', `/admin/v1/audit/export?format=ndjson&device=${deviceId}`);
    expect(res.status).toBe(200);
    return res.text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => (JSON.parse(l) as { id: string }).id);
  }

  it('every record reaches the gateway exactly once across a cut mid-batch and a gateway outage', async () => {
    const sync = syncOf(t);
    await connected(sync);
    const audit = t.agent.store.audit;

    // A cut in the middle of a large batch frame: the gateway gets half a frame, the agent sends again.
    const cut = relay.cutAfterUpload(100_000);
    const disconnected = once(sync.connection, 'disconnected');
    for (let i = 0; i < 1500; i++) audit.record(makeEntry({ device: sync.status().deviceId, prompt: `request ${i} ${'x'.repeat(200)}` }));
    await cut;
    await disconnected;
    await allAcknowledged(t);
    expect(sync.uploader.batches).toBeGreaterThan(3);

    // The gateway goes down: the agent keeps enforcing and keeps its records.
    await gw.close();
    const real = await chatThrough({ proxyUrl: t.proxyUrl, ca: t.caPem }, 'while the gateway is down');
    expect(real.status).toBe(200);
    for (let i = 0; i < 300; i++) audit.record(makeEntry({ device: sync.status().deviceId }));
    audit.flushNow();
    expect(audit.acknowledgedSeq).toBeLessThan(audit.lastSeq);
    expect(sync.connection.state).not.toBe('connected');

    // Back, on another port with the same store: the agent reconnects and uploads the rest.
    gw = await startTestGateway({ home: gwHome });
    relay.target = new URL(gw.url).host;
    await connected(sync);
    await allAcknowledged(t);

    const local = audit.recordsAfter(0).map((r) => r.id);
    const remote = await gatewayIds(sync.status().deviceId);
    expect(local.length).toBeGreaterThanOrEqual(1801);
    expect(new Set(remote).size).toBe(remote.length);
    expect(remote.sort()).toEqual([...local].sort());
    expect(t.agent.status().gateway?.audit.pending).toBe(0);
  });
});

describe('audit upload to a gateway whose disk is full', () => {
  const cleanup: Array<() => unknown> = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it.skipIf(!canMount)('gets no acknowledgement, keeps its records, and uploads them all once space returns', async () => {
    const disk: SmallFs = mountSmallFs(4096);
    cleanup.push(() => disk.unmount());
    const log = capturedLogger();
    const gw = await startTestGateway({ home: disk.dir }, { logger: log.logger });
    cleanup.push(() => gw.close());
    const home = await enrolledHome(gw);
    cleanup.push(() => fs.rm(home, { recursive: true, force: true }));
    const t = await startSyncedAgent(home, { start: { sync: { ackTimeoutMs: 300 } } });
    cleanup.push(() => t.close());
    const sync = syncOf(t);
    await connected(sync);
    const audit = t.agent.store.audit;
    for (let i = 0; i < 20; i++) audit.record(makeEntry({ device: sync.status().deviceId }));
    await allAcknowledged(t);

    disk.fill();
    for (let i = 0; i < 40; i++) audit.record(makeEntry({ device: sync.status().deviceId, prompt: 'x'.repeat(2000) }));
    audit.flushNow();
    sync.auditWritten();
    await log.waitFor('cannot store audit batch; not acknowledging');
    const sent = sync.uploader.batches;
    // No acknowledgement: the records stay, and the batch goes again after the timeout.
    while (sync.uploader.batches === sent) await once(sync.uploader, 'batch');
    expect(audit.acknowledgedSeq).toBeLessThan(audit.lastSeq);

    disk.free();
    await allAcknowledged(t);
    const ids = audit.recordsAfter(0).map((r) => r.id);
    const stored = await gw.admin('GET', `/admin/v1/audit?device=${sync.status().deviceId}&limit=1000`);
    expect((stored.body.records as Array<{ id: string }>).map((r) => r.id).sort()).toEqual([...ids].sort());
  });
});
