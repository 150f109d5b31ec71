/**
 * An unwritable store follows policy failMode: records wait in memory (bounded) and are written, in
 * order and chained, once the disk takes them again; fail-closed refuses requests meanwhile.
 * Real filesystems: a tmpfs that is filled, and one mounted read-only.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditLog, type AuditHealth } from '../../../agent/audit/audit-log.js';
import { verifyChain } from '../../../agent/audit/verify.js';
import { readRecords } from '../../../agent/audit/records.js';
import { makeEntry } from '../../support/audit-entries.js';
import { canMount, mountSmallFs, type SmallFs } from './small-fs.js';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

function smallFs(sizeKiB: number, readOnly = false): SmallFs {
  const fs = mountSmallFs(sizeKiB, readOnly);
  cleanup.push(() => fs.unmount());
  return fs;
}

function open(dir: string, over: Partial<Parameters<typeof AuditLog.open>[0]> = {}): AuditLog {
  const log = AuditLog.open({ file: path.join(dir, 'outpost.db'), spoolMaxBytes: 1 << 30, backgroundCheckpoints: false, retryIntervalMs: 20, ...over });
  cleanup.push(() => log.close());
  return log;
}

/** Resolves on the first health report that satisfies `pred` (now or later). */
function healthWhere(log: AuditLog, pred: (h: AuditHealth) => boolean): Promise<AuditHealth> {
  const now = log.health();
  if (pred(now)) return Promise.resolve(now);
  return new Promise((resolve) => {
    const off = log.onHealth((h) => {
      if (pred(h)) {
        off();
        resolve(h);
      }
    });
  });
}

describe.skipIf(!canMount)('an unwritable audit store', () => {
  it('full disk, failMode open: requests go on, records wait in memory and are written in order once space returns', async () => {
    const fs = smallFs(1024);
    const log = open(fs.dir, { failMode: 'open' });
    const ids: string[] = [];
    const rec = (): void => {
      const e = makeEntry();
      ids.push(e.id);
      log.record(e);
    };
    for (let i = 0; i < 5; i++) rec();
    expect(log.health()).toMatchObject({ writable: true, degraded: false, pendingInMemory: 0 });

    fs.fill();
    for (let i = 0; i < 40; i++) rec();
    const h = log.health();
    expect(h).toMatchObject({ writable: false, degraded: true, code: 'STORE_FULL', pendingInMemory: expect.any(Number) });
    expect(h.pendingInMemory).toBeGreaterThan(0);
    expect(h.reason).toMatch(/disk .* is full/);
    expect(log.canAccept()).toBe(true);

    fs.free();
    await healthWhere(log, (x) => !x.degraded && x.pendingInMemory === 0);
    const db = log.connection();
    expect(readRecords(db).map((r) => r.id)).toEqual(ids);
    expect(verifyChain(db)).toMatchObject({ ok: true, checked: 45 });
  });

  it('full disk, failMode closed: requests are refused while degraded, accepted again after', async () => {
    const fs = smallFs(1024);
    const log = open(fs.dir, { failMode: 'closed' });
    log.record(makeEntry());
    expect(log.canAccept()).toBe(true);
    const reports: AuditHealth[] = [];
    log.onHealth((h) => reports.push(h));

    fs.fill();
    for (let i = 0; i < 40; i++) log.record(makeEntry());
    expect(log.health().degraded).toBe(true);
    expect(log.canAccept()).toBe(false);
    expect(reports.some((r) => r.degraded && r.code === 'STORE_FULL')).toBe(true);

    fs.free();
    await healthWhere(log, (x) => !x.degraded && x.pendingInMemory === 0);
    expect(log.canAccept()).toBe(true);
    expect(verifyChain(log.connection())).toMatchObject({ ok: true, checked: 41 });
  });

  it('read-only folder at start: the log opens degraded, keeps records, and writes them when the folder becomes writable', async () => {
    const fs = smallFs(1024, true);
    const log = open(fs.dir, { failMode: 'closed' });
    expect(log.health()).toMatchObject({ writable: false, degraded: true, code: 'STORE_READ_ONLY' });
    expect(log.statusSection()).toMatchObject({ writable: false, degraded: true, records: null, reason: expect.stringContaining('read-only') });
    expect(log.canAccept()).toBe(false);
    log.setFailMode('open');
    expect(log.canAccept()).toBe(true);
    const ids = [makeEntry(), makeEntry(), makeEntry()].map((e) => {
      log.record(e);
      return e.id;
    });
    expect(log.health().pendingInMemory).toBe(3);

    fs.remount('rw');
    await healthWhere(log, (x) => !x.degraded && x.pendingInMemory === 0);
    expect(readRecords(log.connection()).map((r) => r.id)).toEqual(ids);
    expect(verifyChain(log.connection()).ok).toBe(true);
  });

  it('keeps at most maxPendingInMemory records and counts the rest as dropped', async () => {
    const fs = smallFs(256, true);
    const lines: string[] = [];
    const logger = { info: () => {}, warn: () => {}, error: (_o: object, m: string) => lines.push(m) };
    const log = open(fs.dir, { maxPendingInMemory: 10, logger });
    for (let i = 0; i < 15; i++) log.record(makeEntry());
    expect(log.health()).toMatchObject({ pendingInMemory: 10, dropped: 5, degraded: true });
    expect(lines.some((l) => l.startsWith('audit store cannot be opened'))).toBe(true);
    expect(lines.some((l) => l.startsWith('audit records lost'))).toBe(true);
  });

  it('bounds the memory kept by bytes too: large records beyond maxPendingBytes are dropped', async () => {
    const fs = smallFs(256, true);
    const log = open(fs.dir, { maxPendingBytes: 20_000 });
    for (let i = 0; i < 10; i++) log.record(makeEntry({ prompt: 'p'.repeat(5000) }));
    expect(log.health()).toMatchObject({ pendingInMemory: 3, dropped: 7 });
  });
});
