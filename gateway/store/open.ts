/** Opens the store the config names. */
import type { ResolvedGatewayConfig } from '../config.js';
import type { GatewayStore } from './store.js';
import { openSqliteStore } from './sqlite/sqlite-store.js';

/** The configured store (SQLite by default). */
export async function openStore(config: ResolvedGatewayConfig['store']): Promise<GatewayStore> {
  switch (config.kind) {
    case 'sqlite':
      return openSqliteStore(config.path);
    case 'postgres':
      throw new Error('the PostgreSQL store is not available in this build');
    default: {
      const never: never = config;
      return never;
    }
  }
}
