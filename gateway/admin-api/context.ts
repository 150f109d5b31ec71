/** What the admin API's route modules share. */
import type { Logger } from 'pino';
import type { GatewayStore } from '../store/store.js';
import type { PolicyPublisher } from '../policy/publisher.js';
import type { CommandIssuer } from '../commands/issuer.js';
import type { Route } from '../http/router.js';
import { callerName, type Caller } from './caller.js';
import type { AdminLocals } from './access.js';

/** A route of the admin API: its handler knows the caller. */
export type AdminRoute = Route<AdminLocals>;

export interface AdminDeps {
  readonly store: GatewayStore;
  readonly publisher: PolicyPublisher;
  readonly commands: CommandIssuer;
  readonly logger: Logger;
}

/** One admin action for the trail. */
export interface TrailEntry {
  readonly action: string;
  /** What was done, by allow-list: never a token or key. */
  readonly detail: Record<string, unknown>;
  /** The state the action changed (null where there was none). */
  readonly before?: unknown;
  readonly after?: unknown;
}

/** Writes one entry of the admin audit trail, naming the caller. */
export function trail(deps: Pick<AdminDeps, 'store'>, caller: Caller, entry: TrailEntry): Promise<void> {
  return deps.store.addAdminEvent({ time: new Date().toISOString(), who: callerName(caller), action: entry.action, detail: entry.detail, before: entry.before ?? null, after: entry.after ?? null });
}
