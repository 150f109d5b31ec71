/**
 * The console's audit filters on a store made before them (SQLite schema 3): opening it migrates,
 * and the records already stored are found by user, app and rule like new ones.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SQLITE_MIGRATIONS } from '../../../gateway/store/sqlite/schema.js';
import { openSqliteStore } from '../../../gateway/store/sqlite/sqlite-store.js';
import { makeChain } from '../../support/audit-entries.js';

describe('the audit filter migration', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-gw-migrate-'));
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('backfills the user, app and rules of the records stored before the filters', async () => {
    const file = path.join(dir, 'gateway.db');
    const old = new Database(file);
    for (const sql of SQLITE_MIGRATIONS.slice(0, 3)) old.exec(sql);
    old.pragma('user_version = 3');
    const rule = { id: 'no-cloud-keys', kind: 'secrets:aws-access-key-id', action: 'block' as const, target: 'input' as const, explanation: 'an AWS key' };
    const records = [...makeChain(2, 1, undefined, { user: 'grace', app: 'cursor', decision: 'block', rules: [rule, rule] }), ...makeChain(1, 3, undefined, { user: 'linus' })];
    const insert = old.prepare('INSERT INTO audit (record_id, device_id, seq, time, principal, decision, provider, model, cost_usd, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
    for (const r of records) insert.run(r.id, 'dev-old', r.seq, r.time, r.principal, r.decision, r.provider, r.model, r.costUsd, JSON.stringify(r));
    old.close();

    const store = openSqliteStore(file);
    try {
      const seqs = async (filter: object): Promise<number[]> => (await store.queryAudit(filter, 10, null)).records.map((r) => r.record.seq);
      expect(await seqs({ user: 'grace' })).toEqual([2, 1]);
      expect(await seqs({ app: 'cursor' })).toEqual([2, 1]);
      expect(await seqs({ rule: 'no-cloud-keys' })).toEqual([2, 1]);
      expect(await seqs({ user: 'linus' })).toEqual([3]);
    } finally {
      await store.close();
    }
  });
});
