/**
 * Verifying a device's uploaded hash chain as the gateway's acknowledged sequence advances: each next
 * record must link to the previous one's hash and hash to its own `hash` (shared/audit/canonical.ts,
 * the same form the agent wrote). A broken link is flagged on the device, not refused: the record is
 * evidence either way, and refusing it would stall the agent's upload for ever.
 */
import { recordHash } from '../../shared/audit/canonical.js';
import type { AuditRecord } from '../../shared/schema/audit.js';

/** Where a device's verified chain stands at the gateway. */
export interface ChainState {
  /** Highest sequence with every record up to it stored. */
  readonly ackSeq: number;
  /** That record's hash (the next record's expected `prevHash`). */
  readonly ackHash: string;
  /** The first problem found, kept; null while intact. */
  readonly problem: string | null;
}

/** The state before a device's first record: the chain starts wherever its first upload starts. */
export function initialChain(first: AuditRecord): ChainState {
  return { ackSeq: first.seq - 1, ackHash: first.prevHash, problem: null };
}

/** Advances `state` over `next`, the record with sequence `state.ackSeq + 1`. */
export function advanceChain(state: ChainState, next: AuditRecord): ChainState {
  let problem = state.problem;
  if (problem === null) {
    if (next.prevHash !== state.ackHash) problem = `record ${next.seq} does not link to record ${next.seq - 1} (prevHash differs)`;
    else if (recordHash(next) !== next.hash) problem = `record ${next.seq} does not match its hash: altered`;
  }
  return { ackSeq: next.seq, ackHash: next.hash, problem };
}

/** Advances `state` over `records` (sorted by sequence) while they are contiguous; stops at a gap. */
export function advanceOver(state: ChainState, records: Iterable<AuditRecord>): ChainState {
  let s = state;
  for (const r of records) {
    if (r.seq <= s.ackSeq) continue;
    if (r.seq !== s.ackSeq + 1) break;
    s = advanceChain(s, r);
  }
  return s;
}
