/**
 * Reading audit records back out of the store: rows to `AuditRecord`s, by sequence or time range.
 * Used by the CLI (`tail`, `export`), the sync client (records not yet acknowledged) and verify.
 */
import type { AuditEntry, AuditRecord } from '../../shared/schema/audit.js';
import type { Db } from '../store/database.js';

/** An audit row as stored. */
export interface AuditRow {
  seq: number;
  body: string;
  prev_hash: string;
  hash: string;
}

/** The record a row holds (the body is the canonical entry JSON the store wrote). */
export function rowToRecord(row: AuditRow): AuditRecord {
  const entry = JSON.parse(row.body) as AuditEntry;
  return { ...entry, seq: row.seq, prevHash: row.prev_hash, hash: row.hash };
}

/** Which records to read. */
export interface RecordQuery {
  /** Only records with a sequence above this. */
  readonly afterSeq?: number;
  /** ISO time, inclusive. */
  readonly since?: string;
  /** ISO time, exclusive. */
  readonly until?: string;
  readonly limit?: number;
}

/** The SELECT for `query` (oldest first) and its arguments. */
function selectFor(query: RecordQuery): { sql: string; args: Array<string | number> } {
  const where: string[] = [];
  const args: Array<string | number> = [];
  const add = (clause: string, value: string | number | undefined): void => {
    if (value === undefined) return;
    where.push(clause);
    args.push(value);
  };
  add('seq > ?', query.afterSeq);
  add('time >= ?', query.since);
  add('time < ?', query.until);
  let sql = `SELECT seq, body, prev_hash, hash FROM audit${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY seq`;
  if (query.limit !== undefined) {
    sql += ' LIMIT ?';
    args.push(query.limit);
  }
  return { sql, args };
}

/** Records matching `query`, oldest first. */
export function readRecords(db: Db, query: RecordQuery = {}): AuditRecord[] {
  const { sql, args } = selectFor(query);
  return (db.prepare(sql).all(...args) as AuditRow[]).map(rowToRecord);
}

/** Streams records matching `query` one by one, oldest first (exports of any size). */
export function* iterateRecords(db: Db, query: Omit<RecordQuery, 'limit' | 'afterSeq'> = {}): Generator<AuditRecord> {
  const { sql, args } = selectFor(query);
  for (const row of db.prepare(sql).iterate(...args) as IterableIterator<AuditRow>) yield rowToRecord(row);
}

/** The last `n` records, oldest first. */
export function lastRecords(db: Db, n: number): AuditRecord[] {
  const rows = db.prepare('SELECT seq, body, prev_hash, hash FROM audit ORDER BY seq DESC LIMIT ?').all(n) as AuditRow[];
  return rows.reverse().map(rowToRecord);
}

/**
 * The distinct sources of records since `since` (ISO): each User-Agent (`app`) with the executable
 * of the process that sent it where it was known (`process.exe`), with how many requests and the
 * last time each was seen.
 */
export function recentApps(db: Db, since: string): Array<{ app: string | null; exe: string | null; count: number; last: string }> {
  return db
    .prepare(
      "SELECT json_extract(body, '$.app') AS app, json_extract(body, '$.process.exe') AS exe, count(*) AS count, max(time) AS last FROM audit WHERE time >= ? AND (json_extract(body, '$.app') IS NOT NULL OR json_extract(body, '$.process.exe') IS NOT NULL) GROUP BY app, exe ORDER BY count DESC",
    )
    .all(since) as Array<{ app: string | null; exe: string | null; count: number; last: string }>;
}
