/**
 * The agent's config file (`examples/agent.json`). Every field has a default, so `{}` is a
 * valid config; `loadAgentConfig` (agent/config) resolves paths against the file's folder.
 */
import { z } from 'zod';
import { hostPattern, hostPort, loopbackHost, port } from './common.js';

const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** `http://[user:pass@]host:port` of a corporate proxy that upstream connections go through. */
const proxyUrl = z
  .string()
  .url()
  .refine((u) => u.startsWith('http://') || u.startsWith('https://'), 'expected an http:// or https:// proxy URL');

/**
 * Bounds on decoding a compressed response for output guardrails (agent/proxy/content-decoder.ts),
 * per response: against decompression bombs. Past them the response is refused (fail-closed) or
 * passed on unchecked (fail-open), and the audit record says why.
 */
export const decompressionBounds = z.strictObject({
  /** Most decoded bytes of one response. */
  maxBytes: z.number().int().positive().default(256 * 1024 * 1024),
  /** Most decoded bytes per compressed byte, past the first MiB (text and JSON compress about 3–20×). */
  maxRatio: z.number().int().min(2).max(10_000).default(100),
});
export type DecompressionBounds = z.infer<typeof decompressionBounds>;

/**
 * Whether the agent offers HTTP/2 to providers by default. Kept at the faster of the two in the
 * proxy bench's "Upstream HTTP/2 vs HTTP/1.1" section (`npm run bench`).
 */
export const UPSTREAM_HTTP2_DEFAULT = false;

export const agentConfig = z.strictObject({
  /** Where the agent keeps its CA, store and tokens. `OUTPOST_HOME` overrides it. */
  home: z.string().min(1).default('~/.outpost'),
  proxy: z
    .strictObject({
      host: loopbackHost.default('127.0.0.1'),
      port: port.default(8787),
      /** Largest request body read before governance (bigger: 413 in the provider's shape). */
      maxBodyBytes: z.number().int().positive().default(32 * 1024 * 1024),
      decompression: decompressionBounds.prefault({}),
      /**
       * Offer HTTP/2 in ALPN on intercepted connections beside HTTP/1.1: gRPC and other h2-only
       * clients keep working, browsers get multiplexing. False offers HTTP/1.1 only.
       */
      http2: z.boolean().default(true),
    })
    .prefault({}),
  transparent: z
    .strictObject({
      enabled: z.boolean().default(false),
      port: port.default(8789),
    })
    .prefault({}),
  systemProxy: z
    .strictObject({
      /**
       * How often the agent checks that a system proxy Outpost enabled (`outpost proxy enable`) still
       * points at its PAC, and re-applies it when something else changed it; 0 turns the watchdog off.
       */
      watchdogSeconds: z.number().int().min(0).max(86_400).default(60),
    })
    .prefault({}),
  control: z
    .strictObject({
      host: loopbackHost.default('127.0.0.1'),
      port: port.default(8788),
    })
    .prefault({}),
  /** A policy file for standalone use; null runs the embedded default policy. */
  policyFile: z.string().min(1).nullable().default(null),
  gateway: z
    .strictObject({
      url: z
        .string()
        .url()
        .nullable()
        .default(null),
      /**
       * A one-time enrollment token, usually pushed in the managed config with the URL: the agent
       * enrolls with it on its first start and afterwards uses its own device credential only.
       */
      enrollmentToken: z.string().min(1).nullable().default(null),
      /** An extra CA (PEM file) that issued the gateway's TLS certificate; null: `upstream.caFile` and the usual roots. */
      caFile: z.string().min(1).nullable().default(null),
      /**
       * Pins the gateway's TLS key: base64 SHA-256 of its certificate's SubjectPublicKeyInfo (HPKP's
       * `pin-sha256`, `sha256/` prefix optional). A certificate with another key is refused, whoever issued it.
       */
      spkiSha256: z
        .string()
        .regex(/^(sha256\/)?[A-Za-z0-9+/]{43}=$/, 'expected a base64 SHA-256 digest, e.g. "sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="')
        .nullable()
        .default(null),
    })
    .prefault({}),
  ca: z
    .strictObject({
      /** `standalone`: the agent makes its own root. `fleet`: an intermediate from the organisation root. */
      mode: z.enum(['standalone', 'fleet']).default('standalone'),
      /** Name-constrain the CA to the policy's intercepted hosts. */
      nameConstraints: z.boolean().default(true),
      /** Where CA keys live: the OS keychain when it works (`auto`), or a 0600 file. */
      keyStore: z.enum(['auto', 'keychain', 'file']).default('auto'),
    })
    .prefault({}),
  upstream: z
    .strictObject({
      /** Host → `address:port`: corporate routing, and tests pointing real names at fake providers. */
      resolve: z.record(hostPattern, hostPort).default({}),
      /** An extra CA (PEM file) trusted for upstream connections, beside the OS store. */
      caFile: z.string().min(1).nullable().default(null),
      proxy: proxyUrl.nullable().default(null),
      /**
       * Offer HTTP/2 to providers beside HTTP/1.1 for every request (the provider chooses). gRPC
       * calls are offered HTTP/2 whatever this says: they do not work without it.
       */
      http2: z.boolean().default(UPSTREAM_HTTP2_DEFAULT),
    })
    .prefault({}),
  audit: z
    .strictObject({
      /** Cap on records kept while waiting for the gateway's acknowledgement. */
      spoolMaxBytes: z.number().int().positive().default(512 * 1024 * 1024),
    })
    .prefault({}),
  log: z
    .strictObject({
      level: logLevel.default('info'),
    })
    .prefault({}),
});

/** The agent config with defaults filled in (paths not yet resolved). */
export type AgentConfig = z.infer<typeof agentConfig>;
