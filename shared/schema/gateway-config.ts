/** The central gateway's config file (`examples/gateway.json`). */
import { z } from 'zod';
import { hostPattern, hostPort, port, SECRET_NAME } from './common.js';
import { consoleRole } from './console.js';
import { isLoopbackHostname } from '../protocol/loopback.js';

/** Where the gateway reads one secret (a provider key, the OpenID client secret): an environment variable or a file (its content, trimmed). */
export const secretSource = z.union([z.strictObject({ env: z.string().min(1) }), z.strictObject({ file: z.string().min(1) })]);

/**
 * OpenID Connect sign-in (authorization code + PKCE). Roles and teams come from the groups claim:
 * each group a person is in adds the roles and teams mapped to it; a person with no role is refused.
 */
export const oidcConfig = z.strictObject({
  /** The issuer URL (discovery at `<issuer>/.well-known/openid-configuration`); https, or http on loopback only. */
  issuer: z
    .string()
    .url()
    .refine((u) => u.startsWith('https://') || (u.startsWith('http://') && isLoopbackHostname(new URL(u).hostname)), {
      message: 'the issuer must be an https:// URL (plain http:// only on loopback): sign-in codes and tokens cross it',
    }),
  clientId: z.string().min(1),
  /** The client secret, by reference (never in this file); null for a public client (PKCE only). */
  clientSecret: secretSource.nullable().default(null),
  /** Scopes asked for, beside `openid`. */
  scopes: z.array(z.string().min(1)).default(['email', 'profile', 'groups']),
  /** The claim naming the person (what the console and the audit trail show, and `user:<value>` for devices). */
  userClaim: z.string().min(1).default('email'),
  /** The claim listing the person's groups (ID token, else userinfo). */
  groupsClaim: z.string().min(1).default('groups'),
  /** Group → the roles it gives. */
  roles: z.record(z.string().min(1), z.array(consoleRole).min(1)).default({}),
  /** Group → the teams it manages (what a `team-admin` is scoped to). */
  teams: z.record(z.string().min(1), z.array(z.string().min(1)).min(1)).default({}),
});
export type OidcConfig = z.infer<typeof oidcConfig>;

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
  /**
   * Gateway mode: the provider keys this gateway holds, by the name policy uses as `gateway:NAME`.
   * A virtual key mapping a provider to one sends its requests through the gateway (never the key
   * to a device).
   */
  providerKeys: z.record(z.string().regex(SECRET_NAME, 'a key name: letters, digits, ".", "_" and "-"'), secretSource).default({}),
  /** How the gateway reaches providers in gateway mode. */
  upstream: z
    .strictObject({
      /** Host → `address:port` (corporate routing; tests point real names at a local fake). */
      resolve: z.record(hostPattern, hostPort).default({}),
      /** An extra CA (PEM file) trusted for provider connections, beside Node's roots. */
      caFile: z.string().min(1).nullable().default(null),
    })
    .prefault({}),
  /** The admin console's sign-in. */
  console: z
    .strictObject({
      /** How long a console session lasts from sign-in (absolute, not sliding). */
      sessionHours: z.number().positive().max(24 * 30).default(8),
      /** Single sign-on with the company's OpenID Connect provider; null: break-glass sign-in only. */
      oidc: oidcConfig.nullable().default(null),
    })
    .prefault({}),
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    })
    .prefault({}),
});
export type GatewayConfig = z.infer<typeof gatewayConfig>;

/** A secret by reference. */
export type SecretSource = z.infer<typeof secretSource>;
