/** WAL checkpoints: on the main thread once the store is quiet, in a worker while commits keep coming. */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../../agent/audit/audit-log.js';
import { openDatabase } from '../../../agent/store/database.js';
import { startCheckpointer, type Checkpointer } from '../../../agent/store/checkpointer.js';
import { verifyChain } from '../../../agent/audit/verify.js';
import { makeEntry } from '../../support/audit-entries.js';
import { tempHome } from './temp-home.js';

const logs: AuditLog[] = [];
const checkpointers: Checkpointer[] = [];
afterEach(async () => {
  for (const c of checkpointers.splice(0)) await c.stop();
  for (const l of logs.splice(0)) await l.close();
});

async function until(pred: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('WAL checkpointer', () => {
  it('checkpoints once the store is quiet, and while commits keep coming', async () => {
    const file = path.join(await tempHome(), 'outpost.db');
    const log = AuditLog.open({ file, spoolMaxBytes: 1 << 30, checkpointIntervalMs: 20 });
    logs.push(log);
    // Sustained: a commit every few ms, never a quiet spell; the main file grows meanwhile (a
    // checkpoint ran while commits kept coming). How soon depends on the machine's load, so the
    // commits go on until it has grown, within a generous bound.
    const before = fs.statSync(file).size;
    const end = Date.now() + 15_000;
    while (fs.statSync(file).size <= before && Date.now() < end) {
      log.record(makeEntry({ prompt: 'y'.repeat(1000) }));
      await new Promise((r) => setTimeout(r, 2));
    }
    expect(fs.statSync(file).size).toBeGreaterThan(before);
    // Quiet: everything reaches the main file.
    const size = fs.statSync(file).size;
    for (let i = 0; i < 100; i++) log.record(makeEntry({ prompt: 'z'.repeat(1000) }));
    await until(() => fs.statSync(file).size >= size + 100 * 1000);
    expect(verifyChain(log.connection())).toMatchObject({ ok: true });
  });

  it('a checkpointer on a connection checkpoints what that connection commits, and stops cleanly', async () => {
    const file = path.join(await tempHome(), 'outpost.db');
    const db = openDatabase(file, { autoCheckpoint: false });
    try {
      const c = startCheckpointer(file, db, 20);
      checkpointers.push(c);
      const before = fs.statSync(file).size;
      db.prepare("INSERT INTO pinned_hosts (host, app, reason, first_seen, last_seen, count) VALUES ('a.example', NULL, ?, '', '', 1)").run('r'.repeat(200_000));
      // The row's pages reach the main file only through a checkpoint (auto-checkpoint is off).
      await until(() => fs.statSync(file).size >= before + 200_000);
      await c.stop();
      checkpointers.length = 0;
    } finally {
      db.close();
    }
  });
});
