/**
 * The write-ahead file behind batch durability (agent/audit/write-ahead.ts): a process killed right
 * after `whenDurable` called back, before any commit, loses no record; recovery writes back only
 * what the store lacks, chained; a torn last line is skipped; the file is owner-only and emptied.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { AuditLog } from '../../../agent/audit/audit-log.js';
import { canonicalEntry } from '../../../agent/audit/canonical.js';
import { readRecords } from '../../../agent/audit/records.js';
import { verifyChain } from '../../../agent/audit/verify.js';
import { readWriteAhead, RESET_BYTES, writeAheadPath } from '../../../agent/audit/write-ahead.js';
import { makeEntry } from '../../support/audit-entries.js';
import { REPO_ROOT } from '../../support/handbook.js';
import { tempHome } from './temp-home.js';

const logs: AuditLog[] = [];
afterEach(async () => {
  for (const l of logs.splice(0)) await l.close();
});

function open(file: string, durability: 'sync' | 'batch' = 'batch'): AuditLog {
  const log = AuditLog.open({ file, spoolMaxBytes: 1 << 30, durability, backgroundCheckpoints: false });
  logs.push(log);
  return log;
}

/**
 * A separate Node process (the built modules) records `committed` entries and lets them commit, then
 * `more` entries, and kills itself with SIGKILL inside the `whenDurable` callback: before the turn
 * in which the commit would run.
 */
function recordThenKill(file: string, committed: number, more: number): { status: number | null; signal: NodeJS.Signals | null } {
  const script = `
    const { AuditLog } = await import(${JSON.stringify(path.join(REPO_ROOT, 'dist/agent/audit/audit-log.js'))});
    const { makeEntry } = await import(${JSON.stringify(path.join(REPO_ROOT, 'dist/test/support/audit-entries.js'))});
    const log = AuditLog.open({ file: ${JSON.stringify(file)}, spoolMaxBytes: 1 << 30, durability: 'batch', backgroundCheckpoints: false });
    for (let i = 0; i < ${committed}; i++) log.record(makeEntry({ id: 'committed-' + i }));
    await new Promise((r) => log.whenDurable(r));
    await new Promise((r) => setImmediate(r));
    if (log.lastSeq !== ${committed}) process.exit(3);
    for (let i = 0; i < ${more}; i++) log.record(makeEntry({ id: 'ahead-' + i }));
    log.whenDurable(() => process.kill(process.pid, 'SIGKILL'));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  return { status: r.status, signal: r.signal };
}

describe('audit write-ahead file', () => {
  it('kill -9 right after whenDurable called back, before the commit: the next open writes the records back, chained', async () => {
    const file = path.join(await tempHome(), 'outpost.db');
    expect(recordThenKill(file, 3, 5)).toEqual({ status: null, signal: 'SIGKILL' });
    // The store itself had only the committed three; the file had all eight (the first three
    // waited for too), each with the sequence it was to get.
    const store = new Database(file, { readonly: true });
    expect((store.prepare('SELECT count(*) AS n FROM audit').get() as { n: number }).n).toBe(3);
    store.close();
    expect(readWriteAhead(writeAheadPath(file)).map((r) => [r.seq, r.row.id])).toEqual([
      [1, 'committed-0'],
      [2, 'committed-1'],
      [3, 'committed-2'],
      [4, 'ahead-0'],
      [5, 'ahead-1'],
      [6, 'ahead-2'],
      [7, 'ahead-3'],
      [8, 'ahead-4'],
    ]);
    const log = open(file);
    const records = readRecords(log.connection());
    expect(records.map((r) => [r.seq, r.id])).toEqual([
      [1, 'committed-0'],
      [2, 'committed-1'],
      [3, 'committed-2'],
      [4, 'ahead-0'],
      [5, 'ahead-1'],
      [6, 'ahead-2'],
      [7, 'ahead-3'],
      [8, 'ahead-4'],
    ]);
    expect(verifyChain(log.connection())).toMatchObject({ ok: true, checked: 8 });
    expect(fs.statSync(writeAheadPath(file)).size).toBe(0);
    // The chain goes on from there.
    log.record(makeEntry({ id: 'after' }));
    await new Promise<void>((r) => log.whenDurable(r));
    await new Promise<void>((r) => setImmediate(r));
    expect(log.lastSeq).toBe(9);
    expect(verifyChain(log.connection())).toMatchObject({ ok: true, checked: 9 });
  });

  it('writes back only what the store lacks (killed after the commit, before the file was emptied), and skips a torn last line', async () => {
    const file = path.join(await tempHome(), 'outpost.db');
    const log = open(file);
    const entries = Array.from({ length: 4 }, (_, i) => makeEntry({ id: `r-${i}` }));
    for (const e of entries) log.record(e);
    await new Promise<void>((r) => log.whenDurable(r));
    await new Promise<void>((r) => setImmediate(r));
    expect(log.lastSeq).toBe(4);
    const lines = fs.readFileSync(writeAheadPath(file), 'utf8');
    await log.close();
    logs.length = 0;
    // As if killed after the commit: the file still holds the four committed lines, then one
    // record that never reached the store, then a line cut short by the kill.
    const lost = makeEntry({ id: 'lost-one' });
    const extra = `5\t${lost.id}\t${lost.time}\t${lost.decision}\t${canonicalEntry(lost)}\n`;
    fs.writeFileSync(writeAheadPath(file), `${lines}${extra}6\tcut-short\t2026-11-26T00:00:00.000Z\tallow\t{"id":"cut-sh`);
    const again = open(file);
    const records = readRecords(again.connection());
    expect(records.map((r) => r.id)).toEqual(['r-0', 'r-1', 'r-2', 'r-3', 'lost-one']);
    expect(verifyChain(again.connection())).toMatchObject({ ok: true, checked: 5 });
  });

  it('is owner-only, emptied at close once everything is committed, and emptied when large and fully committed', async () => {
    const file = path.join(await tempHome(), 'outpost.db');
    const previous = process.umask(0o022);
    let log: AuditLog;
    try {
      log = open(file);
    } finally {
      process.umask(previous);
    }
    expect(fs.statSync(writeAheadPath(file)).mode & 0o077).toBe(0);
    const big = 'x'.repeat(4000);
    let peak = 0;
    for (let i = 0; i < Math.ceil(RESET_BYTES / 4000) + 20; i++) {
      log.record(makeEntry({ prompt: big }));
      await new Promise<void>((r) => log.whenDurable(r));
      peak = Math.max(peak, fs.statSync(writeAheadPath(file)).size);
      await new Promise<void>((r) => setImmediate(r));
    }
    expect(peak).toBeGreaterThan(RESET_BYTES);
    expect(fs.statSync(writeAheadPath(file)).size).toBeLessThan(RESET_BYTES);
    log.record(makeEntry());
    await new Promise<void>((r) => log.whenDurable(r));
    expect(fs.statSync(writeAheadPath(file)).size).toBeGreaterThan(0);
    await log.close();
    logs.length = 0;
    expect(fs.statSync(writeAheadPath(file)).size).toBe(0);
  });

  it('sync durability writes no write-ahead file: every record is committed before record() returns', async () => {
    const file = path.join(await tempHome(), 'outpost.db');
    const log = open(file, 'sync');
    log.record(makeEntry());
    expect(fs.existsSync(writeAheadPath(file))).toBe(false);
    expect(log.lastSeq).toBe(1);
  });
});
