/**
 * Opening the agent's SQLite file: WAL journal, `synchronous=NORMAL`, schema migrations.
 *
 * Durability (what a crash can cost):
 * - Process crash (kill -9, a panic): nothing committed is lost. In WAL mode a commit is a write()
 *   of its pages to the `-wal` file; the OS page cache keeps them even when the process dies, and the
 *   next open replays the WAL.
 * - Power loss or kernel crash: with `synchronous=NORMAL` the WAL is fsynced only at checkpoints, so
 *   the transactions committed since the last checkpoint (at most a few seconds: the checkpointer
 *   runs every `CHECKPOINT_INTERVAL_MS`) can roll back. The file stays consistent, and the chain
 *   stays valid: it simply ends earlier. `synchronous=FULL` would fsync every commit (milliseconds
 *   each on an ordinary laptop disk) on the event loop: too slow for the request path.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations.js';
import { StoreError, toStoreError } from './errors.js';

/** A better-sqlite3 connection. */
export type Db = Database.Database;

/** File name of the store inside the agent's home. */
export const STORE_FILE = 'outpost.db';

/** Options for `openDatabase`. */
export interface OpenOptions {
  /** Open for reading only (the CLI's `audit tail|export|verify`); no migrations run. */
  readonly readOnly?: boolean;
  /**
   * Leave WAL checkpoints to SQLite's own auto-checkpoint (true) or to a `Checkpointer` off the
   * event loop (false, what the running agent does).
   */
  readonly autoCheckpoint?: boolean;
}

/**
 * Opens (creating if needed) the store at `file` and brings its schema up to date.
 * Startup-only: uses synchronous file calls.
 */
export function openDatabase(file: string, options: OpenOptions = {}): Db {
  let db: Db | undefined;
  try {
    if (!options.readOnly) {
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      // Create the file 0600 before SQLite does (with the umask): its -wal and -shm copy its mode.
      fs.closeSync(fs.openSync(file, 'a', 0o600));
      for (const f of [file, `${file}-wal`, `${file}-shm`]) if (fs.existsSync(f)) fs.chmodSync(f, 0o600);
    }
    db = new Database(file, { readonly: options.readOnly ?? false, fileMustExist: options.readOnly ?? false });
    db.pragma('busy_timeout = 5000');
    if (options.readOnly) return db;
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    // Deleted records (retention) are overwritten with zeros, not left in free pages.
    db.pragma('secure_delete = ON');
    // After a checkpoint resets the WAL, keep its file at most this big (bytes).
    db.pragma('journal_size_limit = 16777216');
    // Page cache: SQLite's stock 2 MB instead of better-sqlite3's build default of 16 MB. The agent
    // appends (the B-trees' rightmost pages) and rarely reads; under load the large cache only
    // filled with written pages, ~14 MB of resident memory.
    db.pragma('cache_size = -2000');
    if (!options.autoCheckpoint) db.pragma('wal_autocheckpoint = 0');
    migrate(db);
    return db;
  } catch (err) {
    db?.close();
    throw err instanceof StoreError ? err : toStoreError(err, `cannot open the store ${file}`);
  }
}

/** Applies every migration above the file's `user_version`, each in its own transaction. */
export function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new StoreError('STORE_TOO_NEW', `the store has schema version ${current}; this agent knows up to ${SCHEMA_VERSION}: upgrade the agent`);
  }
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
}
