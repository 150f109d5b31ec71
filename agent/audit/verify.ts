/**
 * `outpost audit verify`: walks the whole chain, from the retention base (genesis until records are
 * pruned) to the head the store recorded, and names the first record that is broken or missing.
 */
import type { AuditEntry } from '../../shared/schema/audit.js';
import type { Db } from '../store/database.js';
import { canonicalEntry, hashRecord } from '../../shared/audit/canonical.js';
import type { AuditRow } from './records.js';

/** What is wrong with the chain, at the first record where it shows. */
export interface ChainProblem {
  /** The sequence number of the first broken or missing record. */
  readonly seq: number;
  /**
   * `missing`: no record with this sequence (deleted). `altered`: its content no longer matches its
   * hash. `broken-link`: its `prevHash` is not the previous record's hash (records reordered, or
   * the previous one replaced). `unexpected`: a record below the chain's base (retention).
   */
  readonly kind: 'missing' | 'altered' | 'broken-link' | 'unexpected';
  readonly message: string;
}

/** The outcome of a walk. */
export interface VerifyResult {
  readonly ok: boolean;
  /** Records checked before the walk stopped. */
  readonly checked: number;
  /** The chain's ends: records after `baseSeq` (retention) up to `headSeq` (the last one seen). */
  readonly baseSeq: number;
  readonly headSeq: number;
  readonly problem?: ChainProblem;
}

interface ChainRow {
  base_seq: number;
  base_hash: string;
  head_seq: number;
  head_hash: string;
}

/**
 * Walks every record in sequence order; stops at the first problem. Records after the recorded head
 * are accepted when they chain: the running agent anchors its head a moment after each write.
 */
export function verifyChain(db: Db): VerifyResult {
  const ends = db.prepare('SELECT base_seq, base_hash, head_seq, head_hash FROM chain WHERE id = 1').get() as ChainRow | undefined;
  const baseSeq = ends?.base_seq ?? 0;
  const headSeq = ends?.head_seq ?? 0;
  let expected = baseSeq + 1;
  let prev = ends?.base_hash ?? '0'.repeat(64);
  let checked = 0;
  const result = (problem: ChainProblem): VerifyResult => ({ ok: false, checked, baseSeq, headSeq, problem });
  for (const row of db.prepare('SELECT seq, body, prev_hash, hash FROM audit ORDER BY seq').iterate() as IterableIterator<AuditRow>) {
    if (row.seq < expected) {
      return result({ seq: row.seq, kind: 'unexpected', message: `record ${row.seq} lies before the chain's base (${baseSeq}): it should have been pruned, or was inserted` });
    }
    if (row.seq > expected) {
      return result({ seq: expected, kind: 'missing', message: `record ${expected} is missing${row.seq > expected + 1 ? ` (records ${expected}–${row.seq - 1} are gone)` : ''}` });
    }
    let body: string;
    try {
      body = canonicalEntry(JSON.parse(row.body) as AuditEntry);
    } catch {
      return result({ seq: row.seq, kind: 'altered', message: `record ${row.seq} is not readable JSON any more: it was altered` });
    }
    if (row.prev_hash !== prev) {
      return result({ seq: row.seq, kind: 'broken-link', message: `record ${row.seq} does not follow record ${row.seq - 1} (its prevHash is not that record's hash): records were reordered or replaced` });
    }
    if (hashRecord(row.seq, row.prev_hash, body) !== row.hash) {
      return result({ seq: row.seq, kind: 'altered', message: `record ${row.seq} does not match its hash: it was altered` });
    }
    if (ends !== undefined && row.seq === headSeq && row.hash !== ends.head_hash) {
      return result({ seq: row.seq, kind: 'altered', message: `record ${row.seq} is not the head the store recorded: it was replaced` });
    }
    prev = row.hash;
    expected++;
    checked++;
  }
  if (expected <= headSeq) {
    return result({ seq: expected, kind: 'missing', message: `record ${expected} is missing${headSeq > expected ? ` (records ${expected}–${headSeq} are gone)` : ''}: the chain's head is ${headSeq}` });
  }
  return { ok: true, checked, baseSeq, headSeq: Math.max(headSeq, expected - 1) };
}
