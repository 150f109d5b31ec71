/** The central gateway's config file (`examples/gateway.json`). */
import { z } from 'zod';
import { port } from './common.js';

export const gatewayConfig = z.strictObject({
  home: z.string().min(1).default('~/.outpost-gateway'),
  listen: z
    .strictObject({
      host: z.string().min(1).default('127.0.0.1'),
      port: port.default(8790),
    })
    .prefault({}),
  /** The URL agents use to reach this gateway. */
  publicUrl: z.string().url().nullable().default(null),
  /** The admin API token; null: one is created on first start in the home folder (mode 0600). */
  adminToken: z.string().min(16, 'an admin token needs at least 16 characters').nullable().default(null),
  store: z
    .discriminatedUnion('kind', [
      z.strictObject({ kind: z.literal('sqlite'), path: z.string().min(1).default('gateway.db') }),
      z.strictObject({ kind: z.literal('postgres'), url: z.string().min(1) }),
    ])
    .default({ kind: 'sqlite', path: 'gateway.db' }),
  /**
   * Fleet CA mode: the organisation root (PEM certificate and its PKCS#8 key) that signs each device's
   * name-constrained intermediate from its CSR; null: devices make their own roots (standalone).
   */
  fleetCa: z.strictObject({ certFile: z.string().min(1), keyFile: z.string().min(1) }).nullable().default(null),
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    })
    .prefault({}),
});
export type GatewayConfig = z.infer<typeof gatewayConfig>;
