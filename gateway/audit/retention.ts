/**
 * Audit retention at the gateway: records older than the setting (`PUT /admin/v1/settings/retention`,
 * default 365 days) are deleted at start and then every hour. Acknowledgements are unaffected: a
 * device's acknowledged sequence lives in its chain state, not in its oldest record.
 */
import type { Logger } from 'pino';
import type { GatewayStore } from '../store/store.js';

/** The setting's name in the store. */
export const RETENTION_SETTING = 'audit.retentionDays';
/** Days kept when no administrator set a retention. */
export const DEFAULT_RETENTION_DAYS = 365;
const PRUNE_INTERVAL_MS = 60 * 60 * 1000;

/** The retention in force. */
export async function retentionDays(store: GatewayStore): Promise<number> {
  const v = await store.getSetting(RETENTION_SETTING);
  return typeof v === 'number' ? v : DEFAULT_RETENTION_DAYS;
}

/** Deletes what is past retention now; answers how many records. */
export async function pruneNow(store: GatewayStore, now = Date.now()): Promise<number> {
  const days = await retentionDays(store);
  return store.pruneAudit(new Date(now - days * 86_400_000).toISOString());
}

/** Prunes at start and every hour; returns the stop function. */
export function startRetention(store: GatewayStore, logger: Logger): () => void {
  const run = (): void => {
    pruneNow(store)
      .then((n) => {
        if (n > 0) logger.info({ deleted: n }, 'audit retention pruned records');
      })
      .catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'audit retention failed'));
  };
  run();
  const timer = setInterval(run, PRUNE_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
