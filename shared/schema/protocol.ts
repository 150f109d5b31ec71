/**
 * The sync protocol between an enrolled agent and the central gateway (docs/sync-protocol.md): JSON
 * messages over one WebSocket at `/v1/agents/connect`, each `{ v: "MAJOR.MINOR", type, … }`, plus
 * the enrollment request over HTTP. One schema per message; every type below is `z.infer`red.
 *
 * Compatibility: peers talk when their major versions match. A newer minor may add optional fields
 * and new message types, so message objects here are not strict (an unknown field from a newer peer
 * is dropped, not refused) and a message type from a newer minor is ignored rather than fatal
 * (`parseMessage` reports it as `ignored`). Anything else malformed closes the connection with
 * `CLOSE_CODES.badMessage`.
 */
import { z } from 'zod';
import { deviceInventory, inventoryDecisions } from './inventory.js';
import { auditRecord } from './audit.js';
import { period } from './common.js';

/** The protocol version this build speaks. */
export const PROTOCOL_VERSION = { major: 1, minor: 1 } as const;
/** `PROTOCOL_VERSION` as it travels. */
export const PROTOCOL_V = `${PROTOCOL_VERSION.major}.${PROTOCOL_VERSION.minor}`;

/** `"MAJOR.MINOR"`. */
export const protocolVersion = z.string().regex(/^\d{1,4}\.\d{1,4}$/, 'expected a protocol version "MAJOR.MINOR", e.g. "1.0"');

/** The most records one `audit.batch` may carry; a larger backlog goes in several batches. */
export const MAX_BATCH_RECORDS = 500;
/** The largest WebSocket message either side accepts (a full batch of large records fits). */
export const MAX_MESSAGE_BYTES = 8 * 1024 * 1024;

/**
 * WebSocket close codes (4000–4999 is the application range of RFC 6455 §7.4.2). The reason text
 * says the same in words; the peer logs both.
 */
export const CLOSE_CODES = {
  /** Not JSON, an unknown type of our own minor, or a message that fails its schema. */
  badMessage: 4000,
  /** A different major protocol version. */
  unsupportedVersion: 4001,
  /** The first message was not `hello`, or `hello` named another device than the credential. */
  unexpectedHello: 4002,
  /** The device was revoked by an administrator. */
  deviceRevoked: 4003,
  /** The same device connected again; the older connection is closed. */
  replaced: 4004,
  /** The gateway is shutting down; reconnect with backoff. */
  goingAway: 1001,
  /** Larger than `MAX_MESSAGE_BYTES` (the standard code, sent by ws itself). */
  tooLarge: 1009,
} as const;
export type CloseCode = (typeof CLOSE_CODES)[keyof typeof CLOSE_CODES];

/** True when a peer speaking `v` can talk with this build (same major). */
export function isCompatible(v: string): boolean {
  const major = Number(v.split('.')[0]);
  return major === PROTOCOL_VERSION.major;
}

/** Minor version of `v` (0 when unparsable; callers check `isCompatible` first). */
function minorOf(v: string): number {
  return Number(v.split('.')[1] ?? 0) || 0;
}

// ---------------------------------------------------------------------------------------------
// Shared pieces

/** A device's id as the gateway assigned it at enrollment. */
export const deviceId = z.string().regex(/^dev-[A-Za-z0-9-]{8,64}$/, 'expected a device id "dev-…"');

/** What the agent says about itself: shown in the admin's device list. */
export const deviceStatus = z.object({
  /** `standalone` (its own root) or `fleet` (an intermediate from the organisation CA). */
  caMode: z.enum(['standalone', 'fleet']),
  /** Whether the OS trust stores hold the CA; null when the agent could not tell. */
  caTrusted: z.boolean().nullable(),
  /** Interception paused (by the user where policy allows, or by a kill switch). */
  paused: z.boolean(),
  /** What is degraded, in words (empty: all well). */
  degraded: z.array(z.string()),
  /** The last signed policy the agent refused, and why; null when it took the latest. */
  policyRejected: z.object({ version: z.number().int(), reason: z.string() }).nullable(),
});
export type DeviceStatus = z.infer<typeof deviceStatus>;

/** One budget window's spend: the ledger's export shape (`shared/core/budgets.ts` `BudgetState`). */
export const spendWindow = z.object({
  /** The budget level's id: a policy budget's `id`, `vk:ID`, `default:PRINCIPAL`. */
  id: z.string().min(1),
  period,
  /** Start of the window, epoch ms (calendar-aligned, UTC). */
  windowStart: z.number().int().nonnegative(),
  spentUsd: z.number().nonnegative(),
  /**
   * The device was refused a request estimated at this much for want of grant: the gateway tops its
   * grant up to cover it if the fleet has that much unallocated, and answers `budget.state` either way.
   */
  needUsd: z.number().nonnegative().optional(),
});
export type SpendWindow = z.infer<typeof spendWindow>;

// ---------------------------------------------------------------------------------------------
// Agent → gateway

/** First message after the upgrade; nothing else is accepted before it. */
export const helloMessage = z.object({
  v: protocolVersion,
  type: z.literal('hello'),
  deviceId,
  agentVersion: z.string().min(1).max(64),
  /** The signed policy version the agent enforces; null before its first. */
  policyVersion: z.number().int().positive().nullable(),
  /** The highest audit sequence the gateway acknowledged to this agent (0: none). */
  lastAckedSeq: z.number().int().nonnegative(),
  status: deviceStatus,
});

/**
 * Audit records in sequence order (not necessarily contiguous with the last batch: a retry may
 * repeat records, which the gateway ignores by id). Answered by `audit.ack`.
 */
export const auditBatchMessage = z.object({
  v: protocolVersion,
  type: z.literal('audit.batch'),
  records: z.array(auditRecord).min(1).max(MAX_BATCH_RECORDS),
});

/**
 * This device's own spend in each budget window it charged, cumulative within the window (so a
 * repeated or reordered report is harmless: the gateway keeps the larger value). Sent after each
 * settled cost (coalesced), and with `needUsd` when a request was refused for want of grant (also for
 * a window with no grant yet: a new window, a `default:…` budget). Always answered by `budget.state`
 * for the reported windows, with the device's grant.
 */
export const usageReportMessage = z.object({
  v: protocolVersion,
  type: z.literal('usage.report'),
  windows: z.array(spendWindow).max(10_000),
});

/** The device's status changed (CA trust, pause, degradation, a refused policy, a policy applied). */
export const statusMessage = z.object({
  v: protocolVersion,
  type: z.literal('status'),
  status: deviceStatus,
  /** The signed policy version the agent now enforces (after applying a pushed one). */
  policyVersion: z.number().int().positive().nullable().optional(),
});

/** The outcome of a `command` on the device. */
export const commandResultMessage = z.object({
  v: protocolVersion,
  type: z.literal('command.result'),
  id: z.string().min(1),
  ok: z.boolean(),
  error: z.string().nullable().default(null),
});

/**
 * Fleet CA mode: a CSR for a new intermediate (the device's own key, kept on the device), sent when
 * the current one nears expiry or no longer covers the policy's hosts. Answered by `ca.intermediate`.
 */
export const caRenewMessage = z.object({
  v: protocolVersion,
  type: z.literal('ca.renew'),
  csrPem: z.string().min(1).max(16_384),
});

// ---------------------------------------------------------------------------------------------
// Gateway → agent

/** The gateway's answer to `hello`: what it expects of this connection. */
export const welcomeMessage = z.object({
  v: protocolVersion,
  type: z.literal('welcome'),
  gatewayVersion: z.string(),
  /** The gateway sends `heartbeat` this often; two missed mean the connection is dead. */
  heartbeatMs: z.number().int().positive(),
  maxBatchRecords: z.number().int().positive(),
  maxMessageBytes: z.number().int().positive(),
});

/**
 * A signed policy version (pushed on connect when the agent's is older, and on every change).
 * `signature` is base64 Ed25519 over `signedBytes(version, document)` (shared/protocol/
 * policy-signature.ts), by the key the agent pinned at enrollment. `document` is checked by the agent
 * against shared/schema/policy.ts; its own `version` equals `version`.
 */
export const policyMessage = z.object({
  v: protocolVersion,
  type: z.literal('policy'),
  version: z.number().int().positive(),
  document: z.unknown(),
  signature: z.string().min(1),
  /** When the gateway signed it (ISO 8601); informational, not covered by the signature. */
  signedAt: z.string(),
});

/**
 * The highest sequence such that every record of this device up to it is stored at the gateway.
 * Only records at or below it may be dropped by the agent.
 */
export const auditAckMessage = z.object({
  v: protocolVersion,
  type: z.literal('audit.ack'),
  seq: z.number().int().nonnegative(),
});

/**
 * Fleet budgets, per window this device may charge. `fleetSpentUsd` sums every device's reported
 * spend; `deviceSpentUsd` is this device's part as stored. `grantUsd` is this device's cap: its own
 * cumulative spend in the window may reach it and no more (admit while own spent + reserved +
 * estimate ≤ grantUsd). The gateway hands out grants only from what no device holds yet, so the
 * fleet's total stays within `limitUsd` plus at most one request's estimation error per device, online
 * or offline. Grants only grow; the gateway tops a device up as its reports show it using its grant.
 * `grantUsd` null: the gateway's policy has no such budget, so there is nothing to share: the agent
 * enforces its own policy's limit locally.
 */
export const budgetStateMessage = z.object({
  v: protocolVersion,
  type: z.literal('budget.state'),
  windows: z.array(
    z.object({
      id: z.string().min(1),
      period,
      windowStart: z.number().int().nonnegative(),
      /** The budget's limit in the gateway's current policy; null when the policy has no such budget. */
      limitUsd: z.number().nonnegative().nullable(),
      fleetSpentUsd: z.number().nonnegative(),
      deviceSpentUsd: z.number().nonnegative(),
      grantUsd: z.number().nonnegative().nullable(),
      /**
       * What no device holds yet (the limit minus every device's grant or spend): when this device's
       * headroom plus this is below a request's estimate, asking is useless and the request is refused.
       */
      unallocatedUsd: z.number().nonnegative().nullable(),
    }),
  ),
});

/** Whom an administrator's command is for (the gateway delivers it only to those devices). */
export const commandScope = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('device'), deviceId }),
  z.object({ kind: z.literal('team'), team: z.string().min(1) }),
  z.object({ kind: z.literal('everyone') }),
]);
export type CommandScope = z.infer<typeof commandScope>;

/**
 * What a command does. `kill-switch` sets the device's mode until changed again: `pause-interception`
 * tunnels AI hosts untouched, `block-ai` refuses every AI request and CONNECT, `off` lifts either.
 */
export const commandAction = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('revoke-virtual-key'), virtualKeyId: z.string().min(1) }),
  z.object({ kind: z.literal('revoke-device') }),
  z.object({ kind: z.literal('kill-switch'), mode: z.enum(['pause-interception', 'block-ai', 'off']) }),
]);
export type CommandAction = z.infer<typeof commandAction>;

/**
 * An administrator's command. Commands are idempotent and the gateway repeats those still in force
 * (revoked keys, the current kill switch) on every connect.
 */
export const commandMessage = z.object({
  v: protocolVersion,
  type: z.literal('command'),
  id: z.string().min(1),
  issuedAt: z.string(),
  scope: commandScope,
  action: commandAction,
});

/** A device intermediate signed by the organisation CA (PEM), or why not. */
export const intermediateChain = z.object({ certificatePem: z.string(), chainPem: z.array(z.string()) });
export type IntermediateChain = z.infer<typeof intermediateChain>;

/** The answer to `ca.renew`: the new intermediate and the chain above it, or the reason it was refused. */
export const caIntermediateMessage = z.object({
  v: protocolVersion,
  type: z.literal('ca.intermediate'),
  intermediate: intermediateChain.nullable(),
  error: z.string().nullable(),
});

/**
 * This device's share of fleet-scoped rate limits (policy `rateLimit.scope: "fleet"`): an equal
 * split among the devices connected to the gateway (all replicas), sent after `welcome` and whenever
 * the count changes (checked on each connect, disconnect and heartbeat). The device enforces each
 * fleet-scoped limit × `share` (at least 1); offline, it keeps its last share. Added in 1.1: a 1.0
 * agent ignores it and enforces fleet-scoped limits whole.
 */
export const rateShareMessage = z.object({
  v: protocolVersion,
  type: z.literal('rate.share'),
  share: z.number().positive().max(1),
  devices: z.number().int().nonnegative(),
});

/** Liveness, every `welcome.heartbeatMs`. */
export const heartbeatMessage = z.object({
  v: protocolVersion,
  type: z.literal('heartbeat'),
  time: z.string(),
});

/**
 * Agent → gateway: the device's AI apps and MCP servers, after each scan (issue 14.3). Additive in
 * 1.x: a gateway that does not know it ignores it.
 */
export const inventoryMessage = z.object({
  v: protocolVersion,
  type: z.literal('inventory'),
  inventory: deviceInventory,
});

export { inventoryDecisionValue, inventoryItemKind, inventoryPending } from './inventory.js';

/**
 * Gateway → agent: the decisions in force for this device (the most specific scope wins: device,
 * then team, then everyone) and the fleet setting for items without one. Sent after each
 * `inventory` and whenever an administrator decides.
 */
export const inventoryDecisionsMessage = inventoryDecisions.extend({
  v: protocolVersion,
  type: z.literal('inventory.decisions'),
});
export type InventoryDecisionsMessage = z.infer<typeof inventoryDecisionsMessage>;

// ---------------------------------------------------------------------------------------------
// Registries and parsing

/** Messages an agent sends, by type. */
export const agentMessages = {
  hello: helloMessage,
  'audit.batch': auditBatchMessage,
  'usage.report': usageReportMessage,
  status: statusMessage,
  'command.result': commandResultMessage,
  'ca.renew': caRenewMessage,
  inventory: inventoryMessage,
} as const;

/** Messages a gateway sends, by type. */
export const gatewayMessages = {
  welcome: welcomeMessage,
  policy: policyMessage,
  'audit.ack': auditAckMessage,
  'budget.state': budgetStateMessage,
  command: commandMessage,
  heartbeat: heartbeatMessage,
  'ca.intermediate': caIntermediateMessage,
  'inventory.decisions': inventoryDecisionsMessage,
  'rate.share': rateShareMessage,
} as const;

export type AgentMessage = { [K in keyof typeof agentMessages]: z.infer<(typeof agentMessages)[K]> }[keyof typeof agentMessages];
export type GatewayMessage = { [K in keyof typeof gatewayMessages]: z.infer<(typeof gatewayMessages)[K]> }[keyof typeof gatewayMessages];
export type HelloMessage = z.infer<typeof helloMessage>;
export type PolicyMessage = z.infer<typeof policyMessage>;
export type CommandMessage = z.infer<typeof commandMessage>;
export type BudgetStateMessage = z.infer<typeof budgetStateMessage>;

const envelope = z.object({ v: protocolVersion, type: z.string().min(1).max(64) });

/** The outcome of parsing one received frame. */
export type Parsed<M> =
  | { readonly kind: 'message'; readonly message: M }
  /** A message type from a newer minor version: skip it, keep the connection. */
  | { readonly kind: 'ignored'; readonly type: string }
  /** Close with `code`; `reason` names the field and fits a close frame (≤ 123 bytes). */
  | { readonly kind: 'error'; readonly code: CloseCode; readonly reason: string };

function fail(code: CloseCode, reason: string): Parsed<never> {
  // A close frame's reason is at most 123 bytes (RFC 6455 §5.5).
  let r = reason;
  while (Buffer.byteLength(r) > 123) r = `${r.slice(0, -2)}…`;
  return { kind: 'error', code, reason: r };
}

function parseWith<R extends Record<string, z.ZodType>>(registry: R, text: string): Parsed<z.infer<R[keyof R]>> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return fail(CLOSE_CODES.badMessage, 'not JSON');
  }
  const head = envelope.safeParse(json);
  if (!head.success) {
    const issue = head.error.issues[0];
    return fail(CLOSE_CODES.badMessage, `$.${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
  }
  const { v, type } = head.data;
  if (!isCompatible(v)) return fail(CLOSE_CODES.unsupportedVersion, `protocol ${v} is not supported (this side speaks ${PROTOCOL_V})`);
  const schema = Object.hasOwn(registry, type) ? registry[type] : undefined;
  if (schema === undefined) {
    if (minorOf(v) > PROTOCOL_VERSION.minor) return { kind: 'ignored', type };
    return fail(CLOSE_CODES.badMessage, `unknown message type "${type}"`);
  }
  const body = schema.safeParse(json);
  if (!body.success) {
    const issue = body.error.issues[0];
    const where = issue === undefined ? '$' : `$.${issue.path.map(String).join('.')}`;
    return fail(CLOSE_CODES.badMessage, `${type}: ${where}: ${issue?.message ?? 'invalid'}`);
  }
  return { kind: 'message', message: body.data as z.infer<R[keyof R]> };
}

/** Parses a frame received from an agent (the gateway's side). */
export function parseAgentMessage(text: string): Parsed<AgentMessage> {
  return parseWith(agentMessages, text);
}

/** Parses a frame received from a gateway (the agent's side). */
export function parseGatewayMessage(text: string): Parsed<GatewayMessage> {
  return parseWith(gatewayMessages, text);
}

// ---------------------------------------------------------------------------------------------
// Enrollment (HTTP, not the WebSocket)

/** What the device tells the gateway about itself when it enrolls (shown in the device list). */
export const deviceFacts = z.object({
  hostname: z.string().min(1).max(255),
  osUser: z.string().min(1).max(255),
  /** `process.platform` and `os.release()`, e.g. `linux 6.8.0`. */
  os: z.string().min(1).max(255),
  arch: z.string().min(1).max(32),
  agentVersion: z.string().min(1).max(64),
});
export type DeviceFacts = z.infer<typeof deviceFacts>;

/** `POST /v1/agents/enroll`. */
export const enrollRequest = z.object({
  /** The one-time enrollment token an administrator created. */
  token: z.string().min(16).max(256),
  device: deviceFacts,
  /** Fleet CA mode: a PEM CSR for the device's own key; answered with a name-constrained intermediate. */
  csrPem: z.string().min(1).max(16_384).optional(),
  /**
   * Single sign-on enrollment (an optional addition): the PKCE verifier whose S256 the agent sent when it
   * asked for the sign-in, proving the token that came back through the browser is its own.
   */
  codeVerifier: z.string().regex(/^[A-Za-z0-9._~-]{43,128}$/, 'a PKCE verifier: 43 to 128 unreserved characters').optional(),
});
export type EnrollRequest = z.infer<typeof enrollRequest>;

/** The answer to a successful enrollment (HTTP 201). */
export const enrollResponse = z.object({
  deviceId,
  /**
   * The device's secret for `/v1/agents/connect` (`Authorization: Bearer …` on the upgrade); the
   * gateway keeps only its hash. The agent keeps it in the OS keychain.
   */
  credential: z.string().min(32),
  /** SPKI PEM of the Ed25519 key that signs policy: the agent pins it. */
  gatewayPublicKeyPem: z.string().min(1),
  /** The team the token bound the device to, if any. */
  team: z.string().nullable(),
  /** Single sign-on enrollment (an optional addition): the person the device now speaks for (`user:<this>`); absent or null otherwise. */
  user: z.string().min(1).nullable().optional(),
  /** Fleet CA mode: the device's intermediate and the chain above it (the organisation root), PEM. */
  intermediate: intermediateChain.optional(),
});
export type EnrollResponse = z.infer<typeof enrollResponse>;

/** An HTTP error from the gateway's agent or admin API: a stable `code` and, for invalid input, the fields. */
export const apiError = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    problems: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  }),
});
export type ApiError = z.infer<typeof apiError>;
