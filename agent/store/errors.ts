/** Typed errors of the agent's embedded store, each with a stable `code`. */
import { OutpostError } from '../../shared/errors.js';

/** Stable codes; tests, logs and status match on these, never on messages. */
export type StoreErrorCode =
  /** The folder or file cannot be written (read-only filesystem, permissions). */
  | 'STORE_READ_ONLY'
  /** The disk is full (SQLITE_FULL, ENOSPC). */
  | 'STORE_FULL'
  /** Any other I/O failure while writing. */
  | 'STORE_IO'
  /** The database file was written by a newer agent (schema version above ours). */
  | 'STORE_TOO_NEW'
  /** A stored document (policy, counters) no longer parses. */
  | 'STORE_CORRUPT'
  /** The store was used after `close()`. */
  | 'STORE_CLOSED';

/** A store error with a stable code. */
export class StoreError extends OutpostError<StoreErrorCode> {
  override readonly name = 'StoreError';
}

/**
 * Maps a better-sqlite3 / fs error to a store error code. SQLite reports a read-only filesystem as
 * SQLITE_READONLY* or SQLITE_CANTOPEN, a full disk as SQLITE_FULL; fs reports EROFS/EACCES/ENOSPC.
 */
export function classifyWriteError(err: unknown): StoreErrorCode {
  const code = String((err as { code?: unknown } | null)?.code ?? '');
  if (code.startsWith('SQLITE_FULL') || code === 'ENOSPC' || code === 'EDQUOT') return 'STORE_FULL';
  if (code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_CANTOPEN') || code === 'EROFS' || code === 'EACCES' || code === 'EPERM') {
    return 'STORE_READ_ONLY';
  }
  if (code.startsWith('SQLITE_IOERR') && /full|space/i.test(String((err as Error).message))) return 'STORE_FULL';
  return 'STORE_IO';
}

/** Wraps any write failure as a StoreError (an existing StoreError passes through). */
export function toStoreError(err: unknown, what: string): StoreError {
  if (err instanceof StoreError) return err;
  return new StoreError(classifyWriteError(err), `${what}: ${(err as Error).message ?? String(err)}`, { cause: err });
}
