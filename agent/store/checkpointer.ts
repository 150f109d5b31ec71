/**
 * WAL checkpoints off the event loop. A checkpoint copies the WAL into the database file and fsyncs
 * it: milliseconds on a laptop disk, which SQLite's auto-checkpoint would spend inside whichever
 * request's commit crossed the threshold. So the agent's connection turns auto-checkpoint off and
 * this worker thread, with its own connection, runs a PASSIVE checkpoint (it never waits for the
 * writer) every `intervalMs`. If the worker cannot start, the connection's auto-checkpoint comes back.
 */
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import type { Db } from './database.js';

/** How often the WAL is checkpointed; also the power-loss window of `synchronous=NORMAL`. */
export const CHECKPOINT_INTERVAL_MS = 2000;

// Inline CommonJS source: a worker file would need a build step under vitest (TypeScript sources).
const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.driver);
let db = null;
function tick() {
  try {
    if (db === null) { db = new Database(workerData.file, { fileMustExist: true }); db.pragma('busy_timeout = 1000'); }
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (err) {
    // A full or read-only disk fails the checkpoint too; the agent's log owns that problem. Retry later.
    try { db && db.close(); } catch {}
    db = null;
  }
}
const timer = setInterval(tick, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m === 'stop') { clearInterval(timer); tick(); try { db && db.close(); } catch {} parentPort.postMessage('stopped'); }
});
`;

/** A running checkpointer. */
export interface Checkpointer {
  stop(): Promise<void>;
}

/** Starts checkpointing `file` every `intervalMs`; `db` gets auto-checkpoint back if that fails. */
export function startCheckpointer(file: string, db: Db, intervalMs = CHECKPOINT_INTERVAL_MS): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  let worker: Worker | null;
  try {
    worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, driver, intervalMs } });
    worker.unref();
    worker.on('error', () => {
      worker = null;
      if (db.open) db.pragma('wal_autocheckpoint = 1000');
    });
  } catch {
    worker = null;
    db.pragma('wal_autocheckpoint = 1000');
  }
  return {
    stop: async () => {
      const w = worker;
      worker = null;
      if (w === null) return;
      await new Promise<void>((resolve) => {
        const done = (): void => resolve();
        w.once('message', done);
        w.once('exit', done);
        w.once('error', done);
        w.postMessage('stop');
      });
      await w.terminate();
    },
  };
}
