/**
 * The audit log's health as status, the tray and the gate see it, and how a change is told: once per
 * change to the listeners (status, tray), and loudly in the log when the spool fills.
 */
import type { FailMode } from '../../shared/schema/policy.js';
import type { StoreError, StoreErrorCode } from '../store/errors.js';

/** A pino-compatible logger (the agent passes its pino instance). */
export interface StoreLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Why the log is degraded: a store error, or the spool cap. */
export type AuditProblemCode = StoreErrorCode | 'SPOOL_FULL';

/** The log's health, for status, the tray and the gate. */
export interface AuditHealth {
  /** The store accepted the last write (or open). */
  readonly writable: boolean;
  /** Records cannot be written now (store unwritable, or spool at its cap). */
  readonly degraded: boolean;
  /** Records waiting in memory to be written. */
  readonly pendingInMemory: number;
  /** Records lost because the in-memory bound was reached while degraded (since start). */
  readonly dropped: number;
  /** Bytes of records not yet acknowledged by the central gateway, and the cap. */
  readonly spoolBytes: number;
  readonly spoolMaxBytes: number;
  readonly code?: AuditProblemCode;
  /** In plain words, for status and the tray. */
  readonly reason?: string;
}

/** The problem a full spool is. */
export function spoolProblem(bytes: number, max: number): { code: 'SPOOL_FULL'; message: string } {
  return {
    code: 'SPOOL_FULL',
    message: `the audit spool holds ${bytes} bytes the central gateway has not acknowledged (cap ${max}): waiting for the gateway`,
  };
}

/** A store error in plain words. */
export function describeStoreError(e: StoreError): string {
  switch (e.code) {
    case 'STORE_FULL':
      return 'the disk holding the audit store is full';
    case 'STORE_READ_ONLY':
      return 'the audit store cannot be written (read-only folder or filesystem)';
    default:
      return e.message;
  }
}

/** Tells listeners of each change of health (not of every record). */
export class HealthReporter {
  private lastKey = '';
  private readonly listeners = new Set<(health: AuditHealth) => void>();

  constructor(private readonly logger: StoreLogger) {}

  /** Calls `listener` whenever health changes; returns an unsubscribe. */
  subscribe(listener: (health: AuditHealth) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Reports `h` when it differs from the last report in a way anyone acts on. */
  report(h: AuditHealth, failMode: FailMode): void {
    const key = `${h.degraded}|${h.writable}|${h.code ?? ''}|${h.dropped > 0}|${h.pendingInMemory > 0}`;
    if (key === this.lastKey) return;
    const wasDegraded = this.lastKey.startsWith('true');
    this.lastKey = key;
    if (h.code === 'SPOOL_FULL' && !wasDegraded) {
      this.logger.error(
        { spoolBytes: h.spoolBytes, spoolMaxBytes: h.spoolMaxBytes, failMode },
        `audit spool full: ${failMode === 'closed' ? 'requests are refused (failMode closed)' : 'requests go on, records wait in memory (failMode open)'}`,
      );
    }
    for (const l of this.listeners) {
      try {
        l(h);
      } catch (err) {
        // A listener's bug must not reach the request path that happened to trigger the report.
        this.logger.warn({ err: (err as Error).message }, 'an audit health listener failed');
      }
    }
  }
}
