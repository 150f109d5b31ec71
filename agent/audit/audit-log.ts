/**
 * The audit log: the `AuditSink` the gate records into, the hash chain, the upload spool and what
 * happens when the store cannot be written.
 *
 * Durability. A commit is a write() to the page cache with no fsync (`synchronous=NORMAL`; fsyncs
 * happen at checkpoints, never inside a commit: agent/store/checkpointer.ts), and survives the agent
 * being killed. Two modes, measured in `npm run bench` (audit section):
 * - `sync` (the default here): when `record(entry)` returns, the record is committed, one prepared
 *   INSERT in its own transaction.
 * - `batch` (group commit; what the agent runs, agent/store/agent-store.ts): `record` only queues,
 *   and a flush on `setImmediate` writes everything queued in that turn in one transaction.
 *   `whenDurable(callback)` calls back once every record queued so far is committed. The gate
 *   offers it to the engine (`Gate.whenRecorded`), which ends a governed response (its last bytes)
 *   only from that callback: so, in both modes, every request whose response completed for the
 *   client has its record even after kill -9 (test/integration/audit/crash.test.ts).
 *
 * When a write fails (read-only or full disk) or the spool reaches its cap, records wait in memory
 * (up to `maxPendingInMemory` records and `maxPendingBytes`, then they are counted as dropped) and
 * are written, in order and chained, once possible; `health()` says degraded, the logger says so, `onHealth` listeners (status,
 * tray) hear it, and `canAccept()` tells the gate whether policy `failMode` lets requests go on.
 */
import type { AuditEntry, AuditRecord } from '../../shared/schema/audit.js';
import type { FailMode } from '../../shared/schema/policy.js';
import type { AuditSink } from '../pipeline/seam.js';
import { openDatabase, type Db } from '../store/database.js';
import { startCheckpointer, type Checkpointer } from '../store/checkpointer.js';
import { StoreError, toStoreError, type StoreErrorCode } from '../store/errors.js';
import { describeStoreError, HealthReporter, spoolProblem, type AuditHealth, type AuditProblemCode, type StoreLogger } from './audit-health.js';
import { DurableWaiters } from './durable-waiters.js';
import { UploadSpool } from './upload-spool.js';
import { canonicalEntry } from '../../shared/audit/canonical.js';
import { ANCHOR_DELAY_MS, ChainWriter, type ChainRow } from './chain-writer.js';
import { allowListHeaders } from '../../shared/audit/privacy.js';
import { readRecords } from './records.js';
import { pruneExpired, type PruneOptions } from './retention.js';

/** When a record is durable: before `record` returns (`sync`), or within the current turn (`batch`). */
export type AuditDurability = 'sync' | 'batch';

export type { AuditHealth, AuditProblemCode, StoreLogger } from './audit-health.js';

/** Options of `AuditLog.open`. */
export interface AuditLogOptions {
  /** The SQLite file (`<home>/outpost.db`). */
  readonly file: string;
  /** Cap on unacknowledged records (config `audit.spoolMaxBytes`). */
  readonly spoolMaxBytes: number;
  readonly durability?: AuditDurability;
  /** Records kept in memory while the store cannot take them; default 10,000. */
  readonly maxPendingInMemory?: number;
  /** Bytes of serialised records kept in memory at most; default 64 MiB (a record can carry 64 KB of text). */
  readonly maxPendingBytes?: number;
  /** How often a degraded log tries again; default 1 s. */
  readonly retryIntervalMs?: number;
  /** Policy `failMode` (the composition root updates it with `setFailMode` on a policy change). */
  readonly failMode?: FailMode;
  readonly logger?: StoreLogger;
  /** Run WAL checkpoints ourselves (default: main thread when quiet, worker under load); false leaves them to SQLite (CLI, tests). */
  readonly backgroundCheckpoints?: boolean;
  /** How often the checkpointer runs; default `CHECKPOINT_INTERVAL_MS` (2 s). */
  readonly checkpointIntervalMs?: number;
}

/** Records written per transaction when draining a backlog: bounds each event-loop stall. */
const BATCH_LIMIT = 512;

/** A store error in force (the spool cap is not one: it is computed from the spool's size). */
interface Problem {
  readonly code: StoreErrorCode;
  readonly message: string;
}

const silent: StoreLogger = { info: () => {}, warn: () => {}, error: () => {} };

/** The agent's audit log over its SQLite store. */
export class AuditLog implements AuditSink {
  private db: Db | null = null;
  private writer: ChainWriter | null = null;
  private checkpointer: Checkpointer | null = null;
  private anchorTimer: NodeJS.Timeout | null = null;
  /** The retention base: records after it are stored. */
  private baseSeq = 0;
  private readonly spool: UploadSpool;
  /** Serialised records waiting to be written, in order. */
  private pending: ChainRow[] = [];
  /** Records per drain transaction: shrinks after a failure (a nearly full disk may take a few), grows back. */
  private batchLimit = BATCH_LIMIT;
  private dropped = 0;
  private problem: Problem | null = null;
  private flushQueued = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private failMode: FailMode;
  private readonly healthReports: HealthReporter;
  private readonly durability: AuditDurability;
  private readonly maxPending: number;
  private readonly maxPendingBytes: number;
  /** UTF-16 length of the bodies waiting in `pending` (≈ bytes for the mostly-ASCII JSON). */
  private pendingChars = 0;
  /** Who waits for which queued records to be committed (`whenDurable`). */
  private readonly waiters: DurableWaiters;
  private readonly retryMs: number;
  private readonly logger: StoreLogger;

  private constructor(private readonly options: AuditLogOptions) {
    this.durability = options.durability ?? 'sync';
    this.maxPending = options.maxPendingInMemory ?? 10_000;
    this.maxPendingBytes = options.maxPendingBytes ?? 64 * 1024 * 1024;
    this.retryMs = options.retryIntervalMs ?? 1000;
    this.failMode = options.failMode ?? 'open';
    this.logger = options.logger ?? silent;
    this.spool = new UploadSpool(options.spoolMaxBytes);
    this.healthReports = new HealthReporter(this.logger);
    this.waiters = new DurableWaiters(this.logger);
  }

  /**
   * Opens the log. An unwritable store does not throw: the log starts degraded and keeps trying.
   * A store written by a newer agent (`STORE_TOO_NEW`) does throw: writing it could corrupt it.
   */
  static open(options: AuditLogOptions): AuditLog {
    const log = new AuditLog(options);
    log.tryOpen();
    if (log.problem?.code === 'STORE_TOO_NEW') throw new StoreError('STORE_TOO_NEW', log.problem.message);
    log.reportHealth();
    return log;
  }

  /**
   * Hot path: one call per request. Sync durability writes the record now (see the file comment);
   * otherwise, or while degraded or behind a backlog (order is kept), it queues.
   */
  record(entry: AuditEntry): void {
    if (this.closed) {
      this.drop(1, 'the audit log is closed');
      return;
    }
    let row: ChainRow;
    try {
      // Defence in depth: whatever the gate built, only allow-listed headers reach the disk.
      row = { id: entry.id, time: entry.time, decision: entry.decision, body: canonicalEntry({ ...entry, headers: allowListHeaders(entry.headers) }) };
    } catch (err) {
      // Never throw into the response tap; an entry that cannot be serialised is a bug, said loudly.
      this.drop(1, `an entry could not be serialised: ${(err as Error).message}`);
      return;
    }
    if (this.durability === 'sync' && this.pending.length === 0 && this.writable()) {
      try {
        this.commit([row]);
        return;
      } catch (err) {
        this.fail(err);
      }
    }
    this.enqueue(row);
  }

  /**
   * Calls `callback` once every record queued so far is committed: at once when none waits (sync
   * durability, or the last flush took them all), else right after the transaction that writes the
   * last of them. While the store cannot be written (degraded) or once closed, records wait in memory
   * (or are dropped) and `callback` runs at once: requests are not held hostage by a broken disk
   * (fail-closed refuses them at admission instead, see `canAccept`).
   */
  whenDurable(callback: () => void): void {
    if (this.waiters.settled || this.closed || this.degraded() || this.db === null) {
      callback();
      return;
    }
    this.waiters.wait(callback);
  }

  /** True when the gate may let requests through: always in fail-open, only when healthy in fail-closed. */
  canAccept(): boolean {
    return this.failMode === 'open' || !this.degraded();
  }

  /** Follows a policy change. */
  setFailMode(mode: FailMode): void {
    this.failMode = mode;
  }

  /** The log's health now. */
  health(): AuditHealth {
    const problem: { code: AuditProblemCode; message: string } | null =
      this.problem ?? (this.spool.full ? spoolProblem(this.spool.bytes, this.spool.maxBytes) : null);
    return {
      writable: this.db !== null && this.problem === null,
      degraded: problem !== null,
      pendingInMemory: this.pending.length,
      dropped: this.dropped,
      spoolBytes: this.spool.bytes,
      spoolMaxBytes: this.spool.maxBytes,
      ...(problem === null ? {} : { code: problem.code, reason: problem.message }),
    };
  }

  /** The `audit` section of `GET /v1/status` (shared/schema/control.ts `agentStatus.audit`). */
  statusSection(): { writable: boolean; degraded: boolean; pendingInMemory: number; records: number | null; reason: string | null } {
    const h = this.health();
    return { writable: h.writable, degraded: h.degraded, pendingInMemory: h.pendingInMemory, records: this.writer === null ? null : this.writer.lastSeq - this.baseSeq, reason: h.reason ?? null };
  }

  /** Calls `listener` whenever health changes (degraded, recovered, dropping); returns an unsubscribe. */
  onHealth(listener: (health: AuditHealth) => void): () => void {
    return this.healthReports.subscribe(listener);
  }

  /** The open connection (state accessors share it); throws while the store cannot be opened. */
  connection(): Db {
    if (this.db === null) throw new StoreError(this.problem?.code === 'STORE_FULL' ? 'STORE_FULL' : 'STORE_READ_ONLY', this.problem?.message ?? 'the store is not open');
    return this.db;
  }

  /** The sequence number of the last record written (0 before the first). */
  get lastSeq(): number {
    return this.writer?.lastSeq ?? 0;
  }

  /** The highest sequence the central gateway acknowledged. */
  get acknowledgedSeq(): number {
    return this.spool.ackedSeq;
  }

  /** Records not yet acknowledged, oldest first: what the sync client uploads next. */
  unacknowledged(limit: number): AuditRecord[] {
    return readRecords(this.connection(), { afterSeq: this.spool.ackedSeq, limit });
  }

  /** Records after `seq`, oldest first (counter replay after a crash: records after `throughSeq`). */
  recordsAfter(seq: number, limit?: number): AuditRecord[] {
    return readRecords(this.connection(), limit === undefined ? { afterSeq: seq } : { afterSeq: seq, limit });
  }

  /**
   * The central gateway stored every record up to `seq` (`audit.ack`): they leave the spool (and may
   * be pruned once older than the retention). Frees spool room, so waiting records are written.
   */
  acknowledge(seq: number): void {
    if (!this.spool.acknowledge(this.connection(), Math.min(seq, this.lastSeq))) return;
    this.reportHealth();
    this.scheduleFlush();
  }

  /**
   * Deletes records older than the retention, only those the gateway acknowledged unless
   * `requireAck` is false (standalone agent: nothing is ever uploaded). Returns how many went.
   */
  prune(options: Omit<PruneOptions, 'ackedSeq'>): number {
    const out = pruneExpired(this.connection(), { ...options, ackedSeq: this.spool.ackedSeq });
    this.baseSeq = out.baseSeq;
    if (out.deleted > 0) {
      this.spool.pruned(out.unackedBytes);
      this.reportHealth();
      this.scheduleFlush();
    }
    return out.deleted;
  }

  /**
   * Writes everything waiting now, in bounded transactions, on the caller's turn (shutdown, tests).
   * Returns true when nothing is left in memory.
   */
  flushNow(): boolean {
    while (this.pending.length > 0 && this.drainOnce()) {
      /* each round writes one bounded batch */
    }
    return this.pending.length === 0;
  }

  /** Writes what it can, stops the worker and closes the file. Records after this are dropped. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.flushNow();
    this.closed = true;
    this.waiters.releaseAll();
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.anchorTimer !== null) clearTimeout(this.anchorTimer);
    this.anchorTimer = null;
    this.writer?.anchor();
    if (this.pending.length > 0) {
      this.logger.error({ lost: this.pending.length, code: this.problem?.code }, 'audit log closed with records it could not write');
    }
    await this.checkpointer?.stop();
    this.checkpointer = null;
    this.writer = null;
    if (this.db !== null) {
      try {
        this.db.pragma('wal_checkpoint(TRUNCATE)');
      } catch {
        // A full or read-only disk: the WAL stays and is replayed at the next open.
      }
      this.db.close();
      this.db = null;
    }
  }

  private writable(): boolean {
    return this.problem === null && this.db !== null && !this.spoolFull();
  }

  private degraded(): boolean {
    return this.problem !== null || this.spoolFull();
  }

  private spoolFull(): boolean {
    return this.spool.full;
  }

  /** Writes and chains `rows`; schedules the head anchor. */
  private commit(rows: readonly ChainRow[]): void {
    if (this.writer === null) throw new StoreError('STORE_READ_ONLY', 'the store is not open');
    this.spool.added(this.writer.write(rows));
    if (this.anchorTimer === null && !this.closed) {
      this.anchorTimer = setTimeout(() => {
        this.anchorTimer = null;
        // A refusal here shows up in the next record's own write; that commit re-schedules this.
        this.writer?.anchor();
      }, ANCHOR_DELAY_MS);
      this.anchorTimer.unref();
    }
  }

  private enqueue(row: ChainRow): void {
    if (this.pending.length >= this.maxPending || this.pendingChars + row.body.length > this.maxPendingBytes) {
      this.drop(1, `${this.pending.length} records (${this.pendingChars} bytes) already wait in memory`);
    } else {
      this.pending.push(row);
      this.pendingChars += row.body.length;
      this.waiters.queued();
      if (this.pending.length === 1 && this.degraded()) this.reportHealth();
    }
    this.scheduleFlush();
  }

  private drop(n: number, why: string): void {
    this.dropped += n;
    // Loud, but once per thousand: a flood of identical lines would bury the first one.
    if (this.dropped === n || this.dropped % 1000 < n) {
      this.logger.error({ dropped: this.dropped, code: this.problem?.code }, `audit records lost: ${why}`);
    }
    this.reportHealth();
  }

  private scheduleFlush(): void {
    if (this.closed || (this.pending.length === 0 && this.problem === null)) return;
    if (this.degraded() || this.db === null) {
      if (this.retryTimer === null) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          if (this.db === null) this.tryOpen();
          this.drainSoon();
        }, this.retryMs);
        this.retryTimer.unref();
      }
      return;
    }
    this.drainSoon();
  }

  private drainSoon(): void {
    if (this.flushQueued || this.closed) return;
    this.flushQueued = true;
    setImmediate(() => {
      this.flushQueued = false;
      // One bounded batch per turn, so a long backlog does not stall requests.
      this.drainOnce();
      this.scheduleFlush();
    });
  }

  /** Writes up to BATCH_LIMIT waiting records; false when it could not write. */
  private drainOnce(): boolean {
    if (this.db === null) this.tryOpen();
    if (this.db === null || this.spoolFull()) {
      // Degraded: the records wait in memory, and so nobody waits for them (see whenDurable).
      this.waiters.releaseAll();
      this.reportHealth();
      return false;
    }
    const batch = this.pending.length > this.batchLimit ? this.pending.slice(0, this.batchLimit) : this.pending;
    try {
      if (batch.length > 0) this.commit(batch);
    } catch (err) {
      this.batchLimit = Math.max(1, Math.floor(batch.length / 4));
      this.fail(err);
      return false;
    }
    this.batchLimit = Math.min(BATCH_LIMIT, this.batchLimit * 2);
    this.pending = batch === this.pending ? [] : this.pending.slice(batch.length);
    for (const r of batch) this.pendingChars -= r.body.length;
    this.waiters.committed(batch.length);
    if (this.problem !== null) {
      this.logger.info({ written: batch.length, pending: this.pending.length }, 'audit store writable again');
      this.problem = null;
    }
    this.reportHealth();
    return true;
  }

  private fail(err: unknown): void {
    const e = toStoreError(err, 'writing audit records');
    // The records wait in memory from now on: whoever waits for them goes on (see whenDurable).
    this.waiters.releaseAll();
    const first = this.problem?.code !== e.code;
    this.problem = { code: e.code, message: describeStoreError(e) };
    if (first) this.logger.error({ code: e.code, err: e.message, pending: this.pending.length }, `audit store unwritable: ${this.problem.message}`);
    this.reportHealth();
  }

  private tryOpen(): void {
    try {
      const db = openDatabase(this.options.file, { autoCheckpoint: this.options.backgroundCheckpoints === false });
      this.attach(db);
      if (this.problem !== null) {
        this.logger.info({ file: this.options.file }, 'audit store opened');
        this.problem = null;
      }
    } catch (err) {
      const e = toStoreError(err, `cannot open the store ${this.options.file}`);
      const first = this.problem?.code !== e.code;
      this.problem = { code: e.code, message: describeStoreError(e) };
      if (first) this.logger.error({ code: e.code, err: e.message, file: this.options.file }, `audit store cannot be opened: ${this.problem.message}`);
    }
  }

  private attach(db: Db): void {
    const chain = db.prepare('SELECT base_seq FROM chain WHERE id = 1').get() as { base_seq: number };
    this.spool.load(db);
    this.writer = new ChainWriter(db);
    this.writer.anchor();
    this.db = db;
    this.baseSeq = chain.base_seq;
    if (this.options.backgroundCheckpoints !== false && this.checkpointer === null) this.checkpointer = startCheckpointer(this.options.file, db, this.options.checkpointIntervalMs);
  }

  private reportHealth(): void {
    this.healthReports.report(this.health(), this.failMode);
  }
}
