/**
 * Appending to the hash chain in SQLite: each row gets the next sequence, the previous row's hash
 * and its own (agent/audit/canonical.ts). The in-memory head moves only after SQLite committed, so a
 * failed write (full or read-only disk) leaves the chain exactly as it was.
 */
import type { Statement } from 'better-sqlite3';
import type { Db } from '../store/database.js';
import { hashRecord } from '../../shared/audit/canonical.js';

/** A record ready to write: the entry already serialised in canonical form. */
export interface ChainRow {
  readonly id: string;
  readonly time: string;
  readonly decision: string;
  /** `canonicalEntry(entry)`. */
  readonly body: string;
}

/**
 * How long the chain-head anchor (table `chain`) may lag the last record. Updating it in every
 * record's transaction would cost a second statement per request; deleting the newest records is
 * still caught by verify once the anchor passed them (`close` anchors everything).
 */
export const ANCHOR_DELAY_MS = 250;

interface Appended {
  readonly seq: number;
  readonly hash: string;
  readonly bytes: number;
}

/** Appends rows to the chain of one open store. */
export class ChainWriter {
  private seq: number;
  private hash: string;
  private anchoredSeq: number;
  private readonly insert: Statement;
  private readonly head: Statement;
  private readonly inTransaction: (rows: readonly ChainRow[]) => Appended;

  constructor(db: Db) {
    const chain = db.prepare('SELECT head_seq, head_hash FROM chain WHERE id = 1').get() as { head_seq: number; head_hash: string };
    // Records committed after the last anchor (the agent was killed within ANCHOR_DELAY_MS) continue the chain.
    const last = db.prepare('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined;
    const newer = last !== undefined && last.seq > chain.head_seq;
    this.seq = newer ? last.seq : chain.head_seq;
    this.hash = newer ? last.hash : chain.head_hash;
    this.anchoredSeq = chain.head_seq;
    this.insert = db.prepare('INSERT INTO audit (seq, id, time, decision, body, prev_hash, hash, size) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    this.head = db.prepare('UPDATE chain SET head_seq = ?, head_hash = ? WHERE id = 1');
    this.inTransaction = db.transaction((rows: readonly ChainRow[]) => this.insertAll(rows));
  }

  /** The sequence of the last record written (0 before the first). */
  get lastSeq(): number {
    return this.seq;
  }

  /**
   * Writes `rows` in order; returns the bytes added. Hot path for one row: a single INSERT is its own
   * transaction under SQLite's autocommit, without the BEGIN and COMMIT round trips of the wrapper.
   */
  write(rows: readonly ChainRow[]): number {
    const out = rows.length === 1 ? this.insertAll(rows) : this.inTransaction(rows);
    // Only now, after the commit (a COMMIT can fail too, on a full disk), does the head move.
    this.seq = out.seq;
    this.hash = out.hash;
    return out.bytes;
  }

  /** Writes the head (last sequence and hash) to the `chain` table, if it moved; false if the disk refused. */
  anchor(): boolean {
    if (this.anchoredSeq === this.seq) return true;
    try {
      this.head.run(this.seq, this.hash);
      this.anchoredSeq = this.seq;
      return true;
    } catch {
      return false;
    }
  }

  /** True when records were written since the last anchor. */
  get unanchored(): boolean {
    return this.anchoredSeq !== this.seq;
  }

  private insertAll(rows: readonly ChainRow[]): Appended {
    let seq = this.seq;
    let prev = this.hash;
    let bytes = 0;
    for (const r of rows) {
      seq++;
      const hash = hashRecord(seq, prev, r.body);
      const size = Buffer.byteLength(r.body);
      this.insert.run(seq, r.id, r.time, r.decision, r.body, prev, hash, size);
      prev = hash;
      bytes += size;
    }
    return { seq, hash: prev, bytes };
  }
}
