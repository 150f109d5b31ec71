/**
 * The upload spool (records the central gateway has not acknowledged): its size cap and failMode, and
 * retention, which deletes old records only once acknowledged, keeping the chain verifiable.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../../agent/audit/audit-log.js';
import { verifyChain } from '../../../agent/audit/verify.js';
import { readRecords } from '../../../agent/audit/records.js';
import { makeEntry } from '../../support/audit-entries.js';
import { tempHome } from './temp-home.js';

const logs: AuditLog[] = [];
afterEach(async () => {
  for (const l of logs.splice(0)) await l.close();
});

async function open(over: Partial<Parameters<typeof AuditLog.open>[0]> = {}): Promise<AuditLog> {
  const log = AuditLog.open({ file: path.join(await tempHome(), 'outpost.db'), spoolMaxBytes: 1 << 30, backgroundCheckpoints: false, retryIntervalMs: 20, ...over });
  logs.push(log);
  return log;
}

const DAY = 86_400_000;

describe('the audit upload spool', () => {
  it('hands out unacknowledged records in order and forgets them from the spool once acknowledged', async () => {
    const log = await open();
    for (let i = 0; i < 5; i++) log.record(makeEntry());
    expect(log.unacknowledged(3).map((r) => r.seq)).toEqual([1, 2, 3]);
    const before = log.health().spoolBytes;
    log.acknowledge(3);
    expect(log.acknowledgedSeq).toBe(3);
    expect(log.unacknowledged(10).map((r) => r.seq)).toEqual([4, 5]);
    expect(log.health().spoolBytes).toBeLessThan(before);
    log.acknowledge(99); // beyond the head: clamped
    expect(log.acknowledgedSeq).toBe(5);
    expect(log.health().spoolBytes).toBe(0);
  });

  it('at its cap, failMode open: requests go on, records wait in memory, and an acknowledgement lets them in', async () => {
    const lines: string[] = [];
    const logger = { info: () => {}, warn: () => {}, error: (_o: object, m: string) => lines.push(m) };
    const log = await open({ spoolMaxBytes: 4000, failMode: 'open', logger });
    while (!log.health().degraded) log.record(makeEntry());
    const written = log.lastSeq;
    log.record(makeEntry());
    log.record(makeEntry());
    expect(log.health()).toMatchObject({ degraded: true, writable: true, code: 'SPOOL_FULL', pendingInMemory: 2 });
    expect(log.health().reason).toMatch(/not acknowledged/);
    expect(log.canAccept()).toBe(true);
    expect(lines.some((l) => l.includes('audit spool full') && l.includes('failMode open'))).toBe(true);

    log.acknowledge(written);
    expect(log.health().degraded).toBe(false);
    log.flushNow();
    expect(log.lastSeq).toBe(written + 2);
    expect(verifyChain(log.connection()).ok).toBe(true);
  });

  it('at its cap, failMode closed: the gate is told to refuse requests', async () => {
    const log = await open({ spoolMaxBytes: 3000, failMode: 'closed' });
    while (!log.health().degraded) log.record(makeEntry());
    expect(log.canAccept()).toBe(false);
    log.acknowledge(log.lastSeq);
    expect(log.canAccept()).toBe(true);
  });

  it('recomputes the spool from the file after a restart', async () => {
    const home = await tempHome();
    const file = path.join(home, 'outpost.db');
    const a = AuditLog.open({ file, spoolMaxBytes: 1 << 30, backgroundCheckpoints: false });
    for (let i = 0; i < 4; i++) a.record(makeEntry());
    a.acknowledge(2);
    const bytes = a.health().spoolBytes;
    await a.close();
    const b = AuditLog.open({ file, spoolMaxBytes: 1 << 30, backgroundCheckpoints: false });
    logs.push(b);
    expect(b.acknowledgedSeq).toBe(2);
    expect(b.health().spoolBytes).toBe(bytes);
  });
});

describe('audit retention', () => {
  it('deletes old records only after the gateway acknowledged them, and the chain still verifies', async () => {
    const log = await open();
    const now = Date.now();
    for (let i = 0; i < 6; i++) log.record(makeEntry({ time: new Date(now - 40 * DAY + i).toISOString() }));
    for (let i = 0; i < 2; i++) log.record(makeEntry({ time: new Date(now - DAY).toISOString() }));

    expect(log.prune({ retentionDays: 30, requireAck: true })).toBe(0); // nothing acknowledged yet
    log.acknowledge(4);
    expect(log.prune({ retentionDays: 30, requireAck: true })).toBe(4);
    expect(readRecords(log.connection()).map((r) => r.seq)).toEqual([5, 6, 7, 8]);
    expect(log.statusSection()).toEqual({ writable: true, degraded: false, pendingInMemory: 0, records: 4, reason: null });
    expect(verifyChain(log.connection())).toMatchObject({ ok: true, baseSeq: 4, checked: 4 });

    log.acknowledge(8);
    expect(log.prune({ retentionDays: 30, requireAck: true })).toBe(2); // 5, 6; 7 and 8 are young
    expect(verifyChain(log.connection())).toMatchObject({ ok: true, baseSeq: 6, checked: 2 });
    log.record(makeEntry());
    expect(verifyChain(log.connection())).toMatchObject({ ok: true, headSeq: 9 });
  });

  it('standalone (no gateway): age alone decides, and the spool shrinks', async () => {
    const log = await open();
    for (let i = 0; i < 3; i++) log.record(makeEntry({ time: new Date(Date.now() - 40 * DAY).toISOString() }));
    log.record(makeEntry());
    const before = log.health().spoolBytes;
    expect(log.prune({ retentionDays: 30, requireAck: false })).toBe(3);
    const left = log.connection().prepare('SELECT sum(size) AS bytes FROM audit').get() as { bytes: number };
    expect(log.health().spoolBytes).toBe(left.bytes);
    expect(left.bytes).toBeLessThan(before);
    expect(readRecords(log.connection()).map((r) => r.seq)).toEqual([4]);
    expect(verifyChain(log.connection()).ok).toBe(true);
  });

  it('still detects a deleted record right after the retention base', async () => {
    const log = await open();
    for (let i = 0; i < 5; i++) log.record(makeEntry({ time: new Date(Date.now() - 40 * DAY).toISOString() }));
    for (let i = 0; i < 3; i++) log.record(makeEntry());
    log.prune({ retentionDays: 30, requireAck: false });
    log.connection().prepare('DELETE FROM audit WHERE seq = 6').run();
    expect(verifyChain(log.connection())).toMatchObject({ ok: false, problem: { seq: 6, kind: 'missing' } });
  });
});
