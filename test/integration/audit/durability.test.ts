/** How records reach the file: WAL checkpoints by the checkpointer (never SQLite's auto-checkpoint inside a commit), and the batch durability mode. */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../../agent/audit/audit-log.js';
import { readRecords } from '../../../agent/audit/records.js';
import { verifyChain } from '../../../agent/audit/verify.js';
import { makeEntry } from '../../support/audit-entries.js';
import { tempHome } from './temp-home.js';

const logs: AuditLog[] = [];
afterEach(async () => {
  for (const l of logs.splice(0)) await l.close();
});

async function until(pred: () => boolean): Promise<void> {
  while (!pred()) await new Promise((r) => setTimeout(r, 10));
}

describe('audit durability', () => {
  it('checkpoints the WAL into the database file from the checkpointer (never auto-checkpoint inside a commit)', async () => {
    const file = path.join(await tempHome(), 'outpost.db');
    const log = AuditLog.open({ file, spoolMaxBytes: 1 << 30, checkpointIntervalMs: 20 });
    logs.push(log);
    expect(log.connection().pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    const before = fs.statSync(file).size;
    for (let i = 0; i < 200; i++) log.record(makeEntry({ prompt: 'x'.repeat(1000) }));
    // The records' pages reach the main file only through a checkpoint, which only the checkpointer runs.
    await until(() => fs.statSync(file).size >= before + 200 * 1000);
    expect(verifyChain(log.connection())).toMatchObject({ ok: true, checked: 200 });
  });

  it('batch durability: record() only queues; one transaction in the same turn writes all, in order', async () => {
    const file = path.join(await tempHome(), 'outpost.db');
    const log = AuditLog.open({ file, spoolMaxBytes: 1 << 30, durability: 'batch', backgroundCheckpoints: false });
    logs.push(log);
    const ids = Array.from({ length: 50 }, () => makeEntry()).map((e) => {
      log.record(e);
      return e.id;
    });
    expect(log.lastSeq).toBe(0);
    expect(log.health().pendingInMemory).toBe(50);
    await new Promise<void>((r) => setImmediate(r));
    expect(log.lastSeq).toBe(50);
    expect(readRecords(log.connection()).map((r) => r.id)).toEqual(ids);
    expect(verifyChain(log.connection()).ok).toBe(true);
  });

  it('batch durability: whenDurable calls back right after the transaction that writes the record, never before', async () => {
    const file = path.join(await tempHome(), 'outpost.db');
    const log = AuditLog.open({ file, spoolMaxBytes: 1 << 30, durability: 'batch', backgroundCheckpoints: false });
    logs.push(log);
    const other = new Database(file, { readonly: true });
    const seen: Array<string | undefined> = [];
    const visible = (): string | undefined => (other.prepare('SELECT count(*) AS n FROM audit').get() as { n: number }).n.toString();
    log.whenDurable(() => seen.push(`empty:${visible()}`)); // nothing waits: at once
    log.record(makeEntry());
    log.record(makeEntry());
    log.whenDurable(() => seen.push(`two:${visible()}`));
    expect(seen).toEqual(['empty:0']);
    await new Promise<void>((r) => setImmediate(r));
    other.close();
    expect(seen).toEqual(['empty:0', 'two:2']);
  });

  it('sync durability: the record is in the file (visible to another connection) when record() returns', async () => {
    const file = path.join(await tempHome(), 'outpost.db');
    const log = AuditLog.open({ file, spoolMaxBytes: 1 << 30, backgroundCheckpoints: false });
    logs.push(log);
    const other = new Database(file, { readonly: true });
    const e = makeEntry();
    log.record(e); // no await between this and the read: no turn for a deferred flush
    const row = other.prepare('SELECT id FROM audit WHERE seq = 1').get() as { id: string } | undefined;
    other.close();
    expect(row?.id).toBe(e.id);
    expect(log.health().pendingInMemory).toBe(0);
  });
});
