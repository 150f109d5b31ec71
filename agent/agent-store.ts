/**
 * The agent's one embedded store, as the composition root sees it: the audit log (the gate's
 * `AuditSink`), the small state (last good policy, counters, pinned hosts), counter persistence and
 * the retention timer.
 *
 * Wiring (agent/agent.ts):
 * ```ts
 * const store = openAgentStore(config, { logger, failMode: policy.failMode, uploads: config.gateway.url !== null });
 * const saved = store.state.loadCounters();          // null on first start
 * // gate: createGate({ audit: store.audit, auditHealth: store.audit, … }); gate.importState(saved.document),
 * // then gate.replay(store.audit.recordsAfter(saved.throughSeq)) (spend recorded after the last save, e.g. before a kill -9)
 * store.persistCounters(() => gate.exportState());
 * store.startRetention(() => policy.audit.retentionDays);
 * // status: store.audit.health(), store.audit.onHealth(...); the gate consults store.audit.canAccept()
 * await store.close();                               // on stop: final counters save, flush, checkpoint
 * ```
 */
import path from 'node:path';
import type { ResolvedAgentConfig } from './config/load.js';
import { AuditLog, type AuditDurability, type StoreLogger } from './audit/audit-log.js';
import type { FailMode } from '../shared/schema/policy.js';
import { STORE_FILE } from './store/database.js';
import { StateStore } from './store/state.js';

/** Options of `openAgentStore`. */
export interface AgentStoreOptions {
  readonly logger?: StoreLogger;
  /** Policy `failMode` at start (`store.audit.setFailMode` follows policy changes). */
  readonly failMode?: FailMode;
  /** True when a central gateway receives the audit (retention then waits for its acknowledgement). */
  readonly uploads?: boolean;
  /**
   * Default `batch` (group commit): one transaction per event-loop turn, and the engine ends each
   * governed response only once its record is committed (`Gate.whenRecorded` → `AuditLog.whenDurable`).
   */
  readonly durability?: AuditDurability;
  readonly maxPendingInMemory?: number;
  readonly maxPendingBytes?: number;
  readonly retryIntervalMs?: number;
  /** Run WAL checkpoints in a worker thread (default true). */
  readonly backgroundCheckpoints?: boolean;
}

/**
 * How often counters are saved while requests flow: the most spend a kill -9 can take from the saved
 * document (it stays in the audit records after `throughSeq`). One small upsert per interval.
 */
export const COUNTER_INTERVAL_MS = 100;

/** Where the counters come from: the gate's export (plain JSON). */
export type CounterSource = () => unknown;

/** The open store. */
export interface AgentStore {
  /** `<home>/outpost.db`. */
  readonly file: string;
  readonly audit: AuditLog;
  readonly state: StateStore;
  /**
   * Saves `source()` every `intervalMs` (default 100 ms) when requests were recorded since the last
   * save and the document changed, and once more at `close()`, stamped with the last audit sequence
   * at that moment. A kill -9 loses at most the last interval of counter changes from the saved
   * document; exactly those requests' spend is in the records after `throughSeq` (replayable).
   */
  persistCounters(source: CounterSource, intervalMs?: number): void;
  /** Prunes expired records now and then every `intervalMs` (default 1 h). */
  startRetention(retentionDays: () => number, intervalMs?: number): void;
  close(): Promise<void>;
}

/** Opens the store under `config.home`. Never throws for an unwritable disk: the audit log degrades. */
export function openAgentStore(config: Pick<ResolvedAgentConfig, 'home' | 'audit'>, options: AgentStoreOptions = {}): AgentStore {
  const file = path.join(config.home, STORE_FILE);
  const audit = AuditLog.open({
    file,
    spoolMaxBytes: config.audit.spoolMaxBytes,
    durability: options.durability ?? 'batch',
    ...(options.maxPendingInMemory === undefined ? {} : { maxPendingInMemory: options.maxPendingInMemory }),
    ...(options.maxPendingBytes === undefined ? {} : { maxPendingBytes: options.maxPendingBytes }),
    ...(options.retryIntervalMs === undefined ? {} : { retryIntervalMs: options.retryIntervalMs }),
    ...(options.failMode === undefined ? {} : { failMode: options.failMode }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...(options.backgroundCheckpoints === undefined ? {} : { backgroundCheckpoints: options.backgroundCheckpoints }),
  });
  const state = new StateStore(() => audit.connection());
  const logger = options.logger;
  const timers: NodeJS.Timeout[] = [];
  let saveCounters: (() => void) | null = null;

  return {
    file,
    audit,
    state,
    persistCounters(source, intervalMs = COUNTER_INTERVAL_MS) {
      let last = '';
      let lastSeq = -1;
      const tick = (): void => {
        // Idle agent, idle timer: nothing is exported or serialised until a request was recorded.
        if (audit.lastSeq !== lastSeq) saveCounters?.();
      };
      saveCounters = () => {
        const seq = audit.lastSeq;
        const doc = source();
        const text = JSON.stringify(doc);
        if (text === last) {
          lastSeq = seq;
          return;
        }
        try {
          state.saveCounters(doc, seq);
          last = text;
          lastSeq = seq;
        } catch (err) {
          logger?.warn({ err: (err as Error).message }, 'cannot save budget and rate counters; will retry');
        }
      };
      const t = setInterval(tick, intervalMs);
      t.unref();
      timers.push(t);
    },
    startRetention(retentionDays, intervalMs = 3_600_000) {
      const prune = (): void => {
        try {
          // Bounded batches, one per turn, until nothing is left to prune.
          if (audit.prune({ retentionDays: retentionDays(), requireAck: options.uploads ?? false }) > 0) setImmediate(prune);
        } catch (err) {
          logger?.warn({ err: (err as Error).message }, 'audit retention could not prune; will retry');
        }
      };
      setImmediate(prune);
      const t = setInterval(prune, intervalMs);
      t.unref();
      timers.push(t);
    },
    async close() {
      for (const t of timers) clearInterval(t);
      // Records first, so the counters' throughSeq covers every request they include.
      audit.flushNow();
      saveCounters?.();
      await audit.close();
    },
  };
}
