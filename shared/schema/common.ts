/**
 * Building blocks shared by the config and policy schemas: host patterns, periods, loopback hosts.
 * Every message names what is valid, because an administrator reads them in `outpost policy check`.
 */
import { z } from 'zod';

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/**
 * True when `host` is a syntactically valid DNS name (lower case, no scheme, port or path). A
 * single label (`llm`, an internal name a company's resolver answers) is a name too: custom AI
 * hosts live under such names, and certificates and name constraints may carry them (a dNSName is
 * any preferred-syntax name, RFC 5280 §4.2.1.6).
 */
export function isDnsName(host: string): boolean {
  if (host.length === 0 || host.length > 253) return false;
  return host.split('.').every((label) => LABEL.test(label));
}

/**
 * A host as policy names it: `api.openai.com`, an internal name (`llm`, `ollama.corp`), or
 * `*.openai.azure.com` (any subdomain at any depth, not the apex itself). A bare `*`, a wildcard
 * over a single label (`*.com`, `*.corp`), a wildcard in the middle, a scheme, a port or a path is
 * refused: the classifier matches hosts only, and a broader pattern would decrypt unrelated traffic.
 */
export const hostPattern = z
  .string()
  .transform((value) => value.trim().toLowerCase())
  .superRefine((value, ctx) => {
    const wildcard = value.startsWith('*.');
    const bare = wildcard ? value.slice(2) : value;
    if (!isDnsName(bare) || bare.includes('*') || (wildcard && !bare.includes('.'))) {
      ctx.addIssue({
        code: 'custom',
        message:
          `"${value}" is not a host pattern: expected a DNS name such as "api.openai.com" or "llm", or a ` +
          `leading wildcard over two labels or more such as "*.openai.azure.com" (no scheme, port, path or inner "*")`,
      });
    }
  });

/** Budget and rate windows: `1m` minute, `1h`, `1d`, `1w`, `1M` month, `1Y` year (calendar-aligned, UTC). */
export const PERIODS = ['1m', '1h', '1d', '1w', '1M', '1Y'] as const;
export const period = z.enum(PERIODS, {
  error: (issue) => `expected one of ${PERIODS.join(', ')}, got ${JSON.stringify(issue.input)}`,
});
export type Period = z.infer<typeof period>;

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** A listen address that must stay on loopback: the proxy and control API never face the network. */
export const loopbackHost = z.string().refine((h) => LOOPBACK.has(h), {
  message: 'must be a loopback address (127.0.0.1, ::1 or localhost): Outpost never listens on the network',
});

/** A TCP port; 0 asks the OS for a free one (tests use it). */
export const port = z.number().int().min(0).max(65535);

/** `host:port` or `[v6]:port`, as `upstream.resolve` maps a hostname to an address. */
export const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'expected "address:port", e.g. "127.0.0.1:9443"');

/** A positive amount of US dollars. */
export const usd = z.number().positive('must be a positive amount of US dollars');

/** A positive whole number (limits per window). */
export const positiveInt = z.number().int().positive();

/** The characters of a secret's name (`outpost secret set NAME`, policy `keychain:NAME`). */
const SECRET_NAME_CHARS = '[A-Za-z0-9._-]+';
/** A secret's name: letters, digits, ".", "_" and "-". The one pattern the CLI, the schema and the resolver use. */
export const SECRET_NAME = new RegExp(`^${SECRET_NAME_CHARS}$`);
/** A reference to a secret in the OS keychain, `keychain:NAME`; the name is group 1. */
export const SECRET_REF = new RegExp(`^keychain:(${SECRET_NAME_CHARS})$`);
/**
 * A provider key the central gateway holds (gateway mode), `gateway:NAME` (its config's
 * `providerKeys`); the name is group 1. The device never sees the key: requests go through the gateway.
 */
export const GATEWAY_SECRET_REF = new RegExp(`^gateway:(${SECRET_NAME_CHARS})$`);
