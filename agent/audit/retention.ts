/**
 * Retention: records older than policy `audit.retentionDays` are deleted, but only those the central
 * gateway acknowledged (an agent offline for weeks keeps everything until it has uploaded it). Only a
 * contiguous run from the chain's base is deleted, and the base moves to the last deleted record in
 * the same transaction, so `verify` still walks an unbroken chain. `secure_delete` (agent/store)
 * zeroes the freed pages.
 */
import type { Db } from '../store/database.js';

/** What to prune. */
export interface PruneOptions {
  readonly retentionDays: number;
  /** The highest acknowledged sequence; nothing above it is deleted when `requireAck`. */
  readonly ackedSeq: number;
  /** False for a standalone agent (no central gateway): age alone decides. */
  readonly requireAck: boolean;
  readonly now?: Date;
  /** Most records deleted in one call (one transaction): bounds the event-loop stall. Default 500
   * (with `secure_delete` each deleted page is zeroed: a few ms per call). */
  readonly limit?: number;
}

/** What a prune did. */
export interface PruneResult {
  readonly deleted: number;
  /** Bytes of deleted records that were still unacknowledged (standalone agents only). */
  readonly unackedBytes: number;
  /** The chain's base after the call (the last deleted sequence, or the previous base). */
  readonly baseSeq: number;
}

/** Deletes the expired prefix of the chain (up to `limit` records). */
export function pruneExpired(db: Db, options: PruneOptions): PruneResult {
  const now = options.now ?? new Date();
  const cutoff = new Date(now.getTime() - options.retentionDays * 86_400_000).toISOString();
  const limit = options.limit ?? 500;
  return db.transaction((): PruneResult => {
    const chain = db.prepare('SELECT base_seq FROM chain WHERE id = 1').get() as { base_seq: number };
    // The first record that must stay bounds the prefix: too young, or (when required) not acknowledged.
    const keep = db
      .prepare(`SELECT min(seq) AS seq FROM audit WHERE time >= ?${options.requireAck ? ' OR seq > ?' : ''}`)
      .get(...(options.requireAck ? [cutoff, options.ackedSeq] : [cutoff])) as { seq: number | null };
    const head = db.prepare('SELECT max(seq) AS seq FROM audit').get() as { seq: number | null };
    const lastPrunable = Math.min(keep.seq === null ? (head.seq ?? 0) : keep.seq - 1, chain.base_seq + limit);
    const none = { deleted: 0, unackedBytes: 0, baseSeq: chain.base_seq };
    if (lastPrunable <= chain.base_seq) return none;
    const last = db.prepare('SELECT seq, hash FROM audit WHERE seq <= ? ORDER BY seq DESC LIMIT 1').get(lastPrunable) as { seq: number; hash: string } | undefined;
    if (last === undefined) return none;
    const unacked = db.prepare('SELECT coalesce(sum(size), 0) AS bytes FROM audit WHERE seq > ? AND seq <= ?').get(options.ackedSeq, last.seq) as { bytes: number };
    const deleted = db.prepare('DELETE FROM audit WHERE seq <= ?').run(last.seq).changes;
    db.prepare('UPDATE chain SET base_seq = ?, base_hash = ? WHERE id = 1').run(last.seq, last.hash);
    return { deleted, unackedBytes: unacked.bytes, baseSeq: last.seq };
  })();
}
