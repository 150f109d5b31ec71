/**
 * The upload spool: the records the central gateway has not acknowledged yet, and their size
 * against the cap (config `audit.spoolMaxBytes`). A record leaves the spool only on the gateway's
 * acknowledgement (`audit.ack`), saved in the store with the records, so a crash never uploads a
 * record twice nor forgets one. Standalone agents never upload: their spool is bounded by retention.
 */
import type { Db } from '../store/database.js';
import { toStoreError } from '../store/errors.js';

/** The spool's position and size. */
export class UploadSpool {
  /** The highest sequence the gateway acknowledged. */
  ackedSeq = 0;
  /** Bytes of records after `ackedSeq`. */
  bytes = 0;

  constructor(readonly maxBytes: number) {}

  /** True when the spool holds its cap: records then wait in memory. */
  get full(): boolean {
    return this.bytes >= this.maxBytes;
  }

  /** Reads the acknowledged position and what is after it (on opening the store). */
  load(db: Db): void {
    const spool = db.prepare('SELECT acked_seq FROM spool WHERE id = 1').get() as { acked_seq: number };
    const size = db.prepare('SELECT coalesce(sum(size), 0) AS bytes FROM audit WHERE seq > ?').get(spool.acked_seq) as { bytes: number };
    this.ackedSeq = spool.acked_seq;
    this.bytes = size.bytes;
  }

  /** Records of `bytes` were written. */
  added(bytes: number): void {
    this.bytes += bytes;
  }

  /** Records not acknowledged, of `bytes`, were pruned by retention. */
  pruned(bytes: number): void {
    this.bytes = Math.max(0, this.bytes - bytes);
  }

  /** Saves the gateway's acknowledgement up to `upTo` and frees its records' room; false when it acknowledges nothing new. */
  acknowledge(db: Db, upTo: number): boolean {
    if (upTo <= this.ackedSeq) return false;
    try {
      const freed = db.transaction(() => {
        const row = db.prepare('SELECT coalesce(sum(size), 0) AS bytes FROM audit WHERE seq > ? AND seq <= ?').get(this.ackedSeq, upTo) as { bytes: number };
        db.prepare('UPDATE spool SET acked_seq = ?, acked_at = ? WHERE id = 1').run(upTo, new Date().toISOString());
        return row.bytes;
      })();
      this.ackedSeq = upTo;
      this.bytes = Math.max(0, this.bytes - freed);
      return true;
    } catch (err) {
      throw toStoreError(err, 'saving the acknowledgement');
    }
  }
}
