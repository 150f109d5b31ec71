/** What the admin API's route modules share. */
import type { Logger } from 'pino';
import type { GatewayStore } from '../store/store.js';
import type { PolicyPublisher } from '../policy/publisher.js';
import type { CommandIssuer } from '../commands/issuer.js';

export interface AdminDeps {
  readonly store: GatewayStore;
  readonly publisher: PolicyPublisher;
  readonly commands: CommandIssuer;
  readonly logger: Logger;
}

/** Writes one entry of the admin audit trail (the detail by allow-list: never a token or key). */
export function trail(deps: AdminDeps, action: string, detail: Record<string, unknown>): Promise<void> {
  return deps.store.addAdminEvent({ time: new Date().toISOString(), action, detail });
}

/** A query string as a plain object (each name once; the last value wins). */
export function queryObject(query: URLSearchParams): Record<string, string> {
  return Object.fromEntries(query.entries());
}
