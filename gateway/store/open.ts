/** Opens the store the config names. */
import type { Logger } from 'pino';
import type { ResolvedGatewayConfig } from '../config.js';
import type { GatewayStore } from './store.js';
import { openSqliteStore } from './sqlite/sqlite-store.js';
import { openPostgresStore } from './postgres/postgres-store.js';

/** The configured store (SQLite by default). */
export async function openStore(config: ResolvedGatewayConfig['store'], logger?: Logger): Promise<GatewayStore> {
  switch (config.kind) {
    case 'sqlite':
      return openSqliteStore(config.path);
    case 'postgres':
      return openPostgresStore(config.url, logger);
    default: {
      const never: never = config;
      return never;
    }
  }
}
