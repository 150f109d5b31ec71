/**
 * WAL checkpoints kept out of requests' way. A checkpoint copies the WAL into the database file and
 * fsyncs it: milliseconds on a laptop disk, which SQLite's auto-checkpoint would spend inside
 * whichever request's commit crossed the threshold. So the agent's connection turns auto-checkpoint
 * off and this module runs a PASSIVE checkpoint (it never waits for the writer) every `intervalMs`
 * when something was written since the last one:
 * - at the first moment the store has been quiet for `quietMs` (no commit on the connection: the
 *   usual state of one person's agent between requests), within half an interval, on the main
 *   thread, where nothing is waiting for it;
 * - when commits kept coming all that half interval (sustained traffic), in a worker thread with
 *   its own connection, so the fsyncs stay off the event loop. The worker is started for such a stretch and retired once a
 *   whole interval passes without a commit (it checkpoints once more as it goes): an idle agent does
 *   not carry a second V8 isolate (about 7–10 MB of RSS).
 * If the worker cannot start, the connection's auto-checkpoint comes back.
 */
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import type { Db } from './database.js';

/** How often the WAL is checkpointed; also the power-loss window of `synchronous=NORMAL`. */
export const CHECKPOINT_INTERVAL_MS = 2000;

/** How long without a commit counts as quiet (a main-thread checkpoint then delays nobody). */
export const CHECKPOINT_QUIET_MS = 250;

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
tick();
const timer = setInterval(tick, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m === 'stop') { clearInterval(timer); tick(); try { db && db.close(); } catch {} parentPort.postMessage('stopped'); }
});
`;

/** A running checkpointer. */
export interface Checkpointer {
  stop(): Promise<void>;
}

/** Asks a worker to checkpoint once more and close, then ends it. */
async function retire(w: Worker): Promise<void> {
  await new Promise<void>((resolve) => {
    const done = (): void => resolve();
    w.once('message', done);
    w.once('exit', done);
    w.once('error', done);
    w.postMessage('stop');
  });
  await w.terminate();
}

/** Starts checkpointing `file` (open as `db`) every `intervalMs`; `db` gets auto-checkpoint back if the worker fails. */
export function startCheckpointer(file: string, db: Db, intervalMs = CHECKPOINT_INTERVAL_MS, quietMs = Math.min(CHECKPOINT_QUIET_MS, intervalMs / 2)): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  // Rows changed by this connection so far (audit records, counters, state): a commit moves it.
  const changes = db.prepare('SELECT total_changes()').pluck();
  const changed = (): number | null => {
    try {
      return db.open ? (changes.get() as number) : null;
    } catch {
      return null;
    }
  };
  let worker: Worker | null = null;
  let workerFailed = false;
  let stopped = false;
  /** `total_changes()` at the last checkpoint run or handed to the worker. */
  let checkpointed = changed() ?? 0;
  /** While the worker runs: `total_changes()` at the previous tick. */
  let seen = checkpointed;
  let retiring: Promise<void> = Promise.resolve();

  const startWorker = (): void => {
    try {
      const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, driver, intervalMs } });
      w.unref();
      w.on('error', () => {
        if (worker === w) worker = null;
        workerFailed = true;
        if (db.open) db.pragma('wal_autocheckpoint = 1000');
      });
      worker = w;
    } catch {
      workerFailed = true;
      db.pragma('wal_autocheckpoint = 1000');
    }
  };

  const inline = (at: number): void => {
    try {
      db.pragma('wal_checkpoint(PASSIVE)');
      checkpointed = at;
    } catch {
      // A full or read-only disk fails the checkpoint too; the agent's log owns that problem. Retry later.
    }
  };

  const timer = setInterval(() => {
    if (stopped || workerFailed) return;
    const now = changed();
    if (now === null) return;
    if (worker !== null) {
      if (now === seen) {
        // A whole interval without a commit: the worker checkpoints once more and goes.
        const w = worker;
        worker = null;
        checkpointed = now;
        retiring = retire(w);
      }
      seen = now;
      return;
    }
    if (now === checkpointed) return;
    // Wait for a quiet moment, for at most half an interval; commits all along: the worker.
    let last = now;
    let waited = 0;
    const check = (): void => {
      if (stopped || workerFailed || worker !== null) return;
      const later = changed();
      if (later === null) return;
      waited += quietMs;
      if (later === last) inline(later);
      else if (waited >= intervalMs / 2) {
        startWorker();
        seen = later;
      } else {
        last = later;
        setTimeout(check, quietMs).unref();
      }
    };
    setTimeout(check, quietMs).unref();
  }, intervalMs);
  timer.unref();

  return {
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      const w = worker;
      worker = null;
      await retiring;
      if (w !== null) await retire(w);
    },
  };
}
