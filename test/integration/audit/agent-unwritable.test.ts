/**
 * The whole agent on a disk that fills up: policy failMode decides. Closed: once the audit log
 * cannot write, requests are refused before leaving the machine, in the provider's error shape.
 * Open: requests go on, records wait in memory, status says degraded. Either way, once space
 * returns every record is written, in order, and the chain verifies.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { verifyChain } from '../../../agent/audit/verify.js';
import { chatThrough } from '../../support/clients.js';
import { startTestAgent, type TestAgent } from '../../support/agent.js';
import { canMount, mountSmallFs, type SmallFs } from './small-fs.js';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function agentOnSmallDisk(failMode: 'open' | 'closed'): Promise<{ t: TestAgent; disk: SmallFs }> {
  const disk = mountSmallFs(4096);
  cleanup.push(() => disk.unmount());
  const t = await startTestAgent({
    home: disk.dir,
    policy: { version: 1, name: `fail-${failMode}`, failMode, interception: { hosts: ['api.openai.com'] } },
    config: { audit: { spoolMaxBytes: 1 << 30 } },
  });
  cleanup.push(() => t.close());
  // The store's retry timer is 1 s by default; the test waits on health events, not on time.
  return { t, disk };
}

function ask(t: TestAgent, text: string): Promise<{ status: number; body: string }> {
  return chatThrough({ proxyUrl: t.proxyUrl, ca: t.caPem }, text);
}

function recovered(t: TestAgent): Promise<void> {
  const log = t.agent.store.audit;
  const done = (): boolean => !log.health().degraded && log.health().pendingInMemory === 0;
  if (done()) return Promise.resolve();
  return new Promise((resolve) => {
    const off = log.onHealth(() => {
      if (done()) {
        off();
        resolve();
      }
    });
  });
}

describe.skipIf(!canMount)('the whole agent when its disk is full', () => {
  it('failMode closed: refuses requests in the provider\'s shape while the audit cannot be written', async () => {
    const { t, disk } = await agentOnSmallDisk('closed');
    expect((await ask(t, 'before')).status).toBe(200);

    disk.fill();
    // This request was admitted while the log was healthy; its record is what finds the disk full.
    expect((await ask(t, 'while full 1')).status).toBe(200);
    expect(t.agent.status().audit).toMatchObject({ degraded: true, writable: false, pendingInMemory: 1 });
    const seen = t.provider.requests.length;
    const refused = await ask(t, 'while full 2');
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.body)).toMatchObject({ error: { code: 'audit_unavailable', message: expect.stringContaining('cannot be audited') } });
    expect(t.provider.requests.length).toBe(seen); // it never left the machine
    expect(t.agent.status().degraded.some((d) => d.startsWith('audit:'))).toBe(true);

    disk.free();
    await recovered(t);
    expect((await ask(t, 'after')).status).toBe(200);
    // The record that met the full disk, and the refusal's own record, were kept in memory and
    // written, in order, once space returned.
    const records = t.agent.store.audit.recordsAfter(0);
    expect(records.map((r) => [r.status, r.decision, r.prompt])).toEqual([
      [200, 'allow', 'before'],
      [200, 'allow', 'while full 1'],
      [503, 'block', null],
      [200, 'allow', 'after'],
    ]);
    expect(records[2]).toMatchObject({ provider: 'openai', error: expect.stringContaining('audit unavailable'), rules: [expect.objectContaining({ id: 'audit', kind: 'audit-unavailable', action: 'deny' })] });
    expect(verifyChain(t.agent.store.audit.connection())).toMatchObject({ ok: true, checked: 4 });
  });

  it('failMode open: requests go on, records wait in memory, status says degraded, and all are written later', async () => {
    const { t, disk } = await agentOnSmallDisk('open');
    disk.fill();
    for (let i = 0; i < 5; i++) expect((await ask(t, `while full ${i}`)).status).toBe(200);
    const status = t.agent.status();
    expect(status.audit).toMatchObject({ degraded: true, writable: false, pendingInMemory: 5, reason: expect.stringContaining('full') });
    expect(status.degraded.some((d) => d.startsWith('audit:'))).toBe(true);

    disk.free();
    await recovered(t);
    expect(t.agent.status().audit).toMatchObject({ degraded: false, writable: true, pendingInMemory: 0, records: 5 });
    expect(t.agent.store.audit.recordsAfter(0).map((r) => r.prompt)).toEqual([0, 1, 2, 3, 4].map((i) => `while full ${i}`));
    expect(verifyChain(t.agent.store.audit.connection())).toMatchObject({ ok: true, checked: 5 });
  });
});
