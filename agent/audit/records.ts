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

/** Records matching `query`, oldest first. */
export function readRecords(db: Db, query: RecordQuery = {}): AuditRecord[] {
  const where: string[] = [];
  const args: Array<string | number> = [];
  if (query.afterSeq !== undefined) {
    where.push('seq > ?');
    args.push(query.afterSeq);
  }
  if (query.since !== undefined) {
    where.push('time >= ?');
    args.push(query.since);
  }
  if (query.until !== undefined) {
    where.push('time < ?');
    args.push(query.until);
  }
  const sql = `SELECT seq, body, prev_hash, hash FROM audit${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY seq${query.limit !== undefined ? ' LIMIT ?' : ''}`;
  if (query.limit !== undefined) args.push(query.limit);
  return (db.prepare(sql).all(...args) as AuditRow[]).map(rowToRecord);
}

/** Streams records matching `query` one by one, oldest first (exports of any size). */
export function* iterateRecords(db: Db, query: Omit<RecordQuery, 'limit' | 'afterSeq'> = {}): Generator<AuditRecord> {
  const where: string[] = [];
  const args: string[] = [];
  if (query.since !== undefined) {
    where.push('time >= ?');
    args.push(query.since);
  }
  if (query.until !== undefined) {
    where.push('time < ?');
    args.push(query.until);
  }
  const stmt = db.prepare(`SELECT seq, body, prev_hash, hash FROM audit${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY seq`);
  for (const row of stmt.iterate(...args) as IterableIterator<AuditRow>) yield rowToRecord(row);
}

/** The last `n` records, oldest first. */
export function lastRecords(db: Db, n: number): AuditRecord[] {
  const rows = db.prepare('SELECT seq, body, prev_hash, hash FROM audit ORDER BY seq DESC LIMIT ?').all(n) as AuditRow[];
  return rows.reverse().map(rowToRecord);
}
