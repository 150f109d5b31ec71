/**
 * Audit upload, exactly once: records leave the spool in sequence order, one batch in flight at a
 * time, and are dropped from the spool only at or below the sequence the gateway acknowledged
 * (`audit.ack`). A batch cut off by a lost connection, or never acknowledged (a gateway that cannot
 * write answers no ack), is sent again from the acknowledged sequence; the gateway stores by record
 * id, so a repeat never duplicates.
 */
import { EventEmitter } from 'node:events';
import { MAX_BATCH_RECORDS, PROTOCOL_V, type AgentMessage } from '../../shared/schema/protocol.js';
import type { AuditLog } from '../audit/audit-log.js';

/** What the uploader needs. */
export interface AuditUploadOptions {
  readonly audit: Pick<AuditLog, 'acknowledgedSeq' | 'lastSeq' | 'recordsAfter' | 'acknowledge'>;
  /** Sends while connected; false when not. */
  readonly send: (message: AgentMessage) => boolean;
  readonly logger: { warn(obj: object, msg: string): void };
  /** Records per batch (the gateway's `welcome.maxBatchRecords` lowers it). */
  readonly maxBatchRecords?: number;
  /** A batch without an acknowledgement for this long is sent again (from the acknowledged sequence). */
  readonly ackTimeoutMs?: number;
  /**
   * While connected, the spool is also checked this often (default 1 s): records written by a path
   * that does not call `written()` (a replay, a tool) still go up.
   */
  readonly pumpIntervalMs?: number;
}

/** Uploads the spool while connected. Emits `batch` (the last sequence sent) after each batch sent. */
export class AuditUploader extends EventEmitter {
  private connected = false;
  /** The last sequence sent on this connection (the next batch starts after it). */
  private sentThrough = 0;
  private inFlight: { readonly upTo: number; readonly timer: NodeJS.Timeout } | null = null;
  private maxBatch: number;
  private scheduled = false;
  private ticker: NodeJS.Timeout | null = null;
  /** Batches sent, for tests and status. */
  batches = 0;

  constructor(private readonly options: AuditUploadOptions) {
    super();
    this.maxBatch = Math.min(options.maxBatchRecords ?? MAX_BATCH_RECORDS, MAX_BATCH_RECORDS);
  }

  /** After `welcome`: starts from what the gateway acknowledged. */
  onWelcome(maxBatchRecords: number): void {
    this.connected = true;
    this.maxBatch = Math.max(1, Math.min(maxBatchRecords, this.options.maxBatchRecords ?? MAX_BATCH_RECORDS, MAX_BATCH_RECORDS));
    this.sentThrough = this.options.audit.acknowledgedSeq;
    this.clearInFlight();
    if (this.ticker === null) {
      this.ticker = setInterval(() => this.pump(), this.options.pumpIntervalMs ?? 1000);
      this.ticker.unref();
    }
    this.pump();
  }

  /** The connection ended: whatever was in flight is sent again on the next one. */
  disconnected(): void {
    this.connected = false;
    this.clearInFlight();
    if (this.ticker !== null) clearInterval(this.ticker);
    this.ticker = null;
  }

  /** `audit.ack`: every record up to `seq` is stored at the gateway. */
  acknowledged(seq: number): void {
    this.options.audit.acknowledge(seq);
    if (this.inFlight !== null && seq >= this.inFlight.upTo) this.clearInFlight();
    this.pump();
  }

  /** New records were written: upload them soon (coalesced to one pump per turn). */
  written(): void {
    if (this.scheduled || !this.connected) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  /** Sends the next batch when connected, nothing is in flight, and records wait. */
  pump(): void {
    if (!this.connected || this.inFlight !== null) return;
    const { audit } = this.options;
    const from = Math.max(this.sentThrough, audit.acknowledgedSeq);
    if (audit.lastSeq <= from) return;
    let records;
    try {
      records = audit.recordsAfter(from, this.maxBatch);
    } catch (err) {
      this.options.logger.warn({ err: (err as Error).message }, 'cannot read audit records to upload; retrying on the next acknowledgement or record');
      return;
    }
    const last = records.at(-1);
    if (last === undefined) return;
    if (!this.options.send({ v: PROTOCOL_V, type: 'audit.batch', records })) return;
    this.batches += 1;
    this.sentThrough = last.seq;
    const timer = setTimeout(() => {
      // No acknowledgement: the gateway could not store it (or the answer was lost). Send again.
      this.options.logger.warn({ upTo: last.seq, acked: audit.acknowledgedSeq }, 'the gateway did not acknowledge an audit batch; sending it again');
      this.inFlight = null;
      this.sentThrough = audit.acknowledgedSeq;
      this.pump();
    }, this.options.ackTimeoutMs ?? 30_000);
    timer.unref();
    this.inFlight = { upTo: last.seq, timer };
    this.emit('batch', last.seq);
  }

  private clearInFlight(): void {
    if (this.inFlight !== null) clearTimeout(this.inFlight.timer);
    this.inFlight = null;
  }
}
