import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../../agent/audit/audit-log.js';
import { verifyChain } from '../../../agent/audit/verify.js';
import { readRecords } from '../../../agent/audit/records.js';
import { GENESIS_HASH, recordHash } from '../../../shared/audit/canonical.js';
import { makeEntry } from '../../support/audit-entries.js';
import { tempHome } from './temp-home.js';

const open: AuditLog[] = [];
afterEach(async () => {
  for (const log of open.splice(0)) await log.close();
});

async function logWith(n: number): Promise<{ file: string; log: AuditLog }> {
  const file = path.join(await tempHome(), 'outpost.db');
  const log = AuditLog.open({ file, spoolMaxBytes: 1 << 30, backgroundCheckpoints: false });
  open.push(log);
  for (let i = 0; i < n; i++) log.record(makeEntry({ model: `model-${i}` }));
  return { file, log };
}

/** Reads one stored body with a separate connection. */
function bodyOf(file: string, seq: number): string {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare('SELECT body FROM audit WHERE seq = ?').get(seq) as { body: string }).body;
  } finally {
    db.close();
  }
}

/** Tampers with the file the way someone with a SQLite shell would, then verifies it afresh. */
function tamper(file: string, sql: string, ...args: unknown[]): ReturnType<typeof verifyChain> {
  const db = new Database(file);
  try {
    db.prepare(sql).run(...args);
    return verifyChain(db);
  } finally {
    db.close();
  }
}

describe('the audit hash chain', () => {
  it('chains every record to the previous one from the genesis hash, and verifies', async () => {
    const { file, log } = await logWith(25);
    const db = log.connection();
    const records = readRecords(db);
    expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(records[0]?.prevHash).toBe(GENESIS_HASH);
    for (let i = 1; i < records.length; i++) expect(records[i]?.prevHash).toBe(records[i - 1]?.hash);
    for (const r of records) expect(recordHash(r)).toBe(r.hash);
    expect(verifyChain(db)).toMatchObject({ ok: true, checked: 25, headSeq: 25 });
    expect(file).toBeTruthy();
  });

  it('continues the chain across a restart', async () => {
    const { file, log } = await logWith(3);
    await log.close();
    open.splice(open.indexOf(log), 1);
    const again = AuditLog.open({ file, spoolMaxBytes: 1 << 30, backgroundCheckpoints: false });
    open.push(again);
    again.record(makeEntry());
    const records = readRecords(again.connection());
    expect(records.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    expect(records[3]?.prevHash).toBe(records[2]?.hash);
    expect(verifyChain(again.connection()).ok).toBe(true);
  });

  it('names an altered record', async () => {
    const { file, log } = await logWith(10);
    await log.close();
    const result = tamper(file, 'UPDATE audit SET body = ? WHERE seq = 6', bodyOf(file, 6).replace('"decision":"allow"', '"decision":"block"'));
    expect(result).toMatchObject({ ok: false, problem: { seq: 6, kind: 'altered' } });
  });

  it('names an altered record even when its hash was recomputed (the next link breaks)', async () => {
    const { file, log } = await logWith(10);
    await log.close();
    const altered = bodyOf(file, 4).replace('"costUsd":0.000123', '"costUsd":0');
    const db = new Database(file);
    const rec = readRecords(db, { afterSeq: 3, limit: 1 })[0]!;
    db.close();
    const forged = recordHash({ ...(JSON.parse(altered) as object), seq: 4, prevHash: rec.prevHash, hash: '' } as typeof rec);
    const result = tamper(file, 'UPDATE audit SET body = ?, hash = ? WHERE seq = 4', altered, forged);
    expect(result).toMatchObject({ ok: false, problem: { seq: 5, kind: 'broken-link' } });
  });

  it('names a deleted record', async () => {
    const { file, log } = await logWith(10);
    await log.close();
    expect(tamper(file, 'DELETE FROM audit WHERE seq = 7')).toMatchObject({ ok: false, problem: { seq: 7, kind: 'missing' } });
  });

  it('names the newest record when it was deleted (the head is recorded apart)', async () => {
    const { file, log } = await logWith(10);
    await log.close();
    expect(tamper(file, 'DELETE FROM audit WHERE seq >= 9')).toMatchObject({ ok: false, problem: { seq: 9, kind: 'missing' } });
  });

  it('names the first of two reordered records', async () => {
    const { file, log } = await logWith(10);
    await log.close();
    // Swap records 3 and 4 whole (their sequence numbers trade places).
    const db = new Database(file);
    db.transaction(() => {
      db.prepare('UPDATE audit SET seq = -1 WHERE seq = 3').run();
      db.prepare('UPDATE audit SET seq = 3 WHERE seq = 4').run();
      db.prepare('UPDATE audit SET seq = 4 WHERE seq = -1').run();
    })();
    const result = verifyChain(db);
    db.close();
    expect(result).toMatchObject({ ok: false, problem: { seq: 3, kind: 'broken-link' } });
  });

  it('names a record inserted after the head', async () => {
    const { file, log } = await logWith(3);
    await log.close();
    const result = tamper(file, "INSERT INTO audit (seq, id, time, decision, body, prev_hash, hash, size) SELECT 4, 'x', time, decision, body, hash, hash, size FROM audit WHERE seq = 3");
    expect(result).toMatchObject({ ok: false, problem: { seq: 4, kind: 'altered' } });
  });

  it('drops an entry that cannot be serialised, loudly, without throwing into the request path or breaking the chain', async () => {
    const { log } = await logWith(2);
    const bad = makeEntry({ costUsd: 10n as unknown as number });
    expect(() => log.record(bad)).not.toThrow();
    log.record(makeEntry());
    expect(log.health()).toMatchObject({ dropped: 1, degraded: false });
    expect(verifyChain(log.connection())).toMatchObject({ ok: true, checked: 3 });
  });
});
