/**
 * One audit record per AI request, and per blocked or pinned CONNECT. The agent's store adds `seq`,
 * `prevHash` and `hash` (the chain `outpost audit verify` walks); everything else comes from the
 * request path. Fields are kept by allow-list: there is no free-form bag where a secret could hide.
 */
import { z } from 'zod';

/** The front door a connection came through: `proxy` (CONNECT, PAC, plain forwarding) or `transparent` (an OS redirect). */
export const frontDoor = z.enum(['proxy', 'transparent']);
export type FrontDoor = z.infer<typeof frontDoor>;

export const decision = z.enum(['allow', 'redact', 'warn', 'block', 'error']);
export type Decision = z.infer<typeof decision>;

/** A rule that fired: its id and, in plain words, what kind of thing it found (never the thing). */
export const firedRule = z.strictObject({
  id: z.string(),
  kind: z.string(),
  action: z.enum(['block', 'redact', 'warn', 'log', 'limit', 'deny']),
  target: z.enum(['request', 'input', 'output']),
  explanation: z.string(),
});
export type FiredRule = z.infer<typeof firedRule>;

/** What the request path hands the store; the store adds the chain fields. */
export const auditEntry = z.strictObject({
  id: z.string(),
  time: z.string(), // ISO 8601, UTC
  kind: z.enum(['request', 'connect']),
  device: z.string(),
  user: z.string(),
  app: z.string().nullable(),
  /** The process that opened the connection, where the OS tells (Linux `/proc`); absent when unknown. */
  process: z.object({ pid: z.number().int().positive(), exe: z.string(), name: z.string() }).optional(),
  host: z.string(),
  provider: z.string().nullable(),
  endpoint: z.string().nullable(),
  method: z.string().nullable(),
  model: z.string().nullable(),
  stream: z.boolean(),
  principal: z.string().nullable(),
  decision,
  rules: z.array(firedRule),
  status: z.number().int().nullable(),
  error: z.string().nullable(),
  latencyMs: z.number().nullable(),
  ttfbMs: z.number().nullable(),
  inputTokens: z.number().int().nullable(),
  outputTokens: z.number().int().nullable(),
  cachedTokens: z.number().int().nullable(),
  tokensEstimated: z.boolean(),
  costUsd: z.number().nullable(),
  /** Version of the price table that priced this request; null when no price was known. */
  priceVersion: z.string().nullable(),
  /** The prompt and output as policy `audit.recordPrompts` says; guardrail findings always redacted. */
  prompt: z.string().nullable(),
  output: z.string().nullable(),
  /** Request headers kept by allow-list (user-agent, content-type, …), never credentials. */
  headers: z.record(z.string(), z.string()),
  /**
   * The front door the connection came through (issue 15). Absent in records written before it was
   * recorded: the canonical form leaves an absent optional field out, so their hashes still verify.
   */
  door: frontDoor.optional(),
  /**
   * For a call no adapter reads (an endpoint the adapters do not know, or an opaque protocol): its
   * path without the query, and the bytes each way (issue 16). Absent on every other record.
   */
  path: z.string().optional(),
  requestBytes: z.number().int().nonnegative().optional(),
  responseBytes: z.number().int().nonnegative().optional(),
  /** For an MCP `tools/call`: the tool (the record's provider is the server, its endpoint the method). */
  tool: z.string().optional(),
});
export type AuditEntry = z.infer<typeof auditEntry>;

export const auditRecord = auditEntry.extend({
  seq: z.number().int().positive(),
  prevHash: z.string(),
  hash: z.string(),
});
export type AuditRecord = z.infer<typeof auditRecord>;
