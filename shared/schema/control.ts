/**
 * The control API's answers (agent ↔ tray app and CLI). One schema per shape, shared by the agent
 * that serves them and the clients that read them.
 */
import { z } from 'zod';
import { failMode } from './policy.js';

/**
 * Whether the CA can sign for every host the policy intercepts. A host it cannot sign for is
 * refused (never tunnelled ungoverned) until the CA covers it.
 */
export const caCoverage = z.object({
  /** The policy's intercepted host patterns the CA cannot sign for now. */
  uncovered: z.array(z.string()),
  /** Why, in words (waiting for the gateway's intermediate, a re-issue that failed); null when all are covered. */
  reason: z.string().nullable(),
});
export type CaCoverage = z.infer<typeof caCoverage>;

/** A trust store that trusted the previous CA certificate and does not trust the current one yet. */
export const pendingTrust = z.object({
  store: z.string(),
  description: z.string(),
  /** Why the agent could not install it itself (no administrator rights, a failed command). */
  error: z.string(),
});
export type PendingTrust = z.infer<typeof pendingTrust>;

/** A client that rejects the agent's certificate for a host (it pins its provider's). */
export const pinnedClient = z.object({
  host: z.string(),
  client: z.string(),
  aborts: z.number().int(),
  reason: z.string(),
  since: z.number(),
  expiresAt: z.number(),
});

/**
 * The ways a client may try to reach a governed host around governance: a CONNECT to an IP literal
 * whose TLS names a governed host, an IP literal without a server name, a CONNECT name and TLS
 * server name that disagree (domain fronting), a Host header that differs from the server name, a
 * pinned client's connection, bytes that are not TLS on a CONNECT to a governed host.
 */
export const bypassKind = z.enum(['ip-literal', 'no-server-name', 'sni-mismatch', 'host-mismatch', 'pinned-client', 'not-tls']);
export type BypassKind = z.infer<typeof bypassKind>;
/** What the agent did with a bypass attempt's connection or request. */
export const bypassAction = z.enum(['intercepted', 'tunnelled', 'blocked']);
export type BypassAction = z.infer<typeof bypassAction>;

/** Bypass attempts (issue 20.4): totals by kind and action, and the latest few. */
export const bypassSummary = z.object({
  total: z.number().int(),
  counts: z.array(z.object({ kind: bypassKind, action: bypassAction, count: z.number().int() })),
  recent: z.array(z.object({ kind: bypassKind, action: bypassAction, at: z.string(), host: z.string(), detail: z.string(), app: z.string().nullable() })),
});
export type BypassSummary = z.infer<typeof bypassSummary>;

/** `GET /v1/status`. Each part reports its own section; `degraded` lists what is wrong, in words. */
/** Why a call on an intercepted host was forwarded without being read. */
export const unreadReason = z.enum(['unknown-endpoint', 'opaque-protocol']);
export type UnreadReason = z.infer<typeof unreadReason>;

/**
 * Coverage gaps since start (issue 16): calls on intercepted hosts that no adapter reads, forwarded
 * and recorded. Each distinct endpoint is counted (ids in paths folded to `{id}`), the most recent kept.
 */
export const unreadSummary = z.object({
  total: z.number().int(),
  requestBytes: z.number().int(),
  responseBytes: z.number().int(),
  endpoints: z.array(
    z.object({
      host: z.string(),
      method: z.string(),
      path: z.string(),
      reason: unreadReason,
      count: z.number().int(),
      lastAt: z.string(),
    }),
  ),
});
export type UnreadSummary = z.infer<typeof unreadSummary>;

/** The sync with the central gateway, for `outpost status` and the tray. */
export const gatewaySyncStatus = z.object({
  url: z.string(),
  deviceId: z.string(),
  /** `connected`; `connecting`; `waiting` to retry (see `lastError`); `revoked` by an administrator (no more syncing); `stopped`. */
  state: z.enum(['connecting', 'connected', 'waiting', 'revoked', 'stopped']),
  connectedSince: z.string().nullable(),
  lastError: z.string().nullable(),
  nextAttemptAt: z.string().nullable(),
  /**
   * Since when the gateway has not been reachable (ISO 8601): the first failure after the last
   * connection, or since start when it never connected; null while connected (absent from older agents).
   */
  unreachableSince: z.string().nullable().optional(),
  /** The signed policy version in force; null while a local policy serves until the first arrives. */
  policyVersion: z.number().int().nullable(),
  /** When the gateway signed the policy version in force (ISO 8601); null before the first (absent from older agents). */
  policySignedAt: z.string().nullable().optional(),
  /** The last signed policy refused, and why; null once a later one was taken. */
  policyRejected: z.object({ version: z.number().int(), reason: z.string() }).nullable(),
  /** Audit records written and not yet acknowledged by the gateway, and the last acknowledged sequence. */
  audit: z.object({ acknowledgedSeq: z.number().int(), pending: z.number().int() }),
});
export type GatewaySyncStatus = z.infer<typeof gatewaySyncStatus>;

export const agentStatus = z.object({
  version: z.string(),
  pid: z.number().int(),
  startedAt: z.string(),
  proxy: z.object({ address: z.string(), pac: z.string() }),
  control: z.object({ address: z.string() }),
  /** `pauseMinutes`: how long the person may pause interception from the tray; null when policy does not allow it (absent from older agents). */
  policy: z.object({ name: z.string(), version: z.number(), source: z.string(), failMode, pauseMinutes: z.number().int().nullable().optional() }),
  ca: z.object({
    mode: z.enum(['standalone', 'fleet']),
    caFile: z.string(),
    bundleFile: z.string(),
    keyStore: z.enum(['keychain', 'file']),
    /** True when keys fell back to a file: weaker than the OS keychain. */
    weakKeyStore: z.boolean(),
    notAfter: z.string().nullable(),
    /** The CA's permitted DNS subtrees; null when it is not name-constrained (or none is installed). */
    permittedDns: z.array(z.string()).nullable(),
    coverage: caCoverage,
    /** Re-trust after the CA certificate changed: stores still waiting, and the command that finishes it. */
    retrust: z.object({ pending: z.array(pendingTrust), command: z.string().nullable() }),
  }),
  engine: z.object({
    connections: z.number().int(),
    intercepted: z.number().int(),
    tunnelled: z.number().int(),
    blocked: z.number().int(),
    /** Hosts some client of which counts as pinned now (that client alone is tunnelled or refused). */
    pinnedHosts: z.array(z.string()),
    /** The pins in force: which client, for which host, since and until when (epoch ms). */
    pinnedClients: z.array(pinnedClient),
    /** Bypass attempts the agent stopped or let through since it started (the central gateway sees them here and in the audit). */
    bypass: bypassSummary,
    /** Connections accepted by each front door since start (every audit record names its door too). */
    doors: z.object({ proxy: z.number().int(), transparent: z.number().int() }),
    /** Intercepted connections whose client chose HTTP/2, since start (issue 18; absent from older agents). */
    http2Sessions: z.number().int().optional(),
  }),
  /** The transparent front door (issue 15). */
  transparent: z.object({
    /** Its loopback port; null when transparent.enabled is false. */
    port: z.number().int().nullable(),
    /** Why the original destination of a redirected connection cannot be read here (routing by SNI/Host alone); null when it can. */
    originalDestination: z.string().nullable(),
  }),
  audit: z.object({
    writable: z.boolean(),
    degraded: z.boolean(),
    pendingInMemory: z.number().int(),
    records: z.number().int().nullable(),
    reason: z.string().nullable(),
  }),
  /** Calls on intercepted hosts no adapter reads (unknown endpoints, opaque protocols): forwarded, recorded, counted here. */
  unread: unreadSummary,
  /** The gate's internal failures (each became an `error-open` or `error-closed` decision). */
  gate: z.object({
    failures: z.number().int(),
    /** True while the last failure is recent. */
    degraded: z.boolean(),
    last: z.object({ at: z.string(), stage: z.string(), failMode, message: z.string() }).nullable(),
  }),
  degraded: z.array(z.string()),
  /**
   * At a glance, for the tray: `protected` (all well), `degraded` (see `degraded` for every reason),
   * `paused` (see `paused`). A tray that cannot reach the agent shows `off`. Absent from older agents.
   */
  state: z.enum(['protected', 'degraded', 'paused']).optional(),
  /** Interception paused: until when and by whom (absent from older agents; null when not paused). */
  paused: z.object({ until: z.string(), by: z.string() }).nullable().optional(),
  /** The central gateway this device is enrolled with; null when it is not (absent from older agents). */
  gateway: gatewaySyncStatus.nullable().optional(),
});
export type AgentStatus = z.infer<typeof agentStatus>;

/** `POST /v1/ca/rotate`: the running agent made a new root and switched to it. */
export const caRotation = z.object({
  caFile: z.string(),
  /** Fingerprint (SHA-256) of the new root. */
  fingerprint256: z.string(),
  pending: z.array(pendingTrust),
  command: z.string().nullable(),
});
export type CaRotation = z.infer<typeof caRotation>;

/** `<home>/runtime.json`: where a running agent listens, for `outpost env`, `status` and the tray. */
export const runtimeInfo = z.object({
  pid: z.number().int(),
  proxyUrl: z.string(),
  controlUrl: z.string(),
  caFile: z.string(),
  bundleFile: z.string(),
  /** The transparent door's port; null when transparent.enabled is false. */
  transparentPort: z.number().int().nullable().default(null),
});
export type RuntimeInfo = z.infer<typeof runtimeInfo>;

/** How one self-check came out: `skip` when it does not apply here (no gateway configured, no agent to ask). */
export const doctorOutcome = z.enum(['ok', 'warn', 'fail', 'skip']);
export type DoctorOutcome = z.infer<typeof doctorOutcome>;

/** One self-check of `outpost doctor` and the tray's diagnostics window (`GET /v1/diagnostics`). */
export const doctorCheck = z.object({
  /** Stable id (`agent`, `ca-trust:linux-system`, `gateway`, …). */
  id: z.string(),
  /** What was checked, in words. */
  title: z.string(),
  outcome: doctorOutcome,
  /** What is wrong (or what was found), in one sentence. */
  detail: z.string(),
  /** The one command that fixes it; null when it passed or no command can. */
  fix: z.string().nullable(),
});
export type DoctorCheck = z.infer<typeof doctorCheck>;

/** Every self-check; `ok` is false when any check failed (warnings do not fail). */
export const doctorReport = z.object({
  ok: z.boolean(),
  at: z.string(),
  checks: z.array(doctorCheck),
});
export type DoctorReport = z.infer<typeof doctorReport>;

/** `GET /v1/activity?limit=&before=`: newest first; `before` is the `seq` of the last item of the previous page. */
export const activityQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  before: z.coerce.number().int().positive().optional(),
});
export type ActivityQuery = z.infer<typeof activityQuery>;

/** One request as the tray shows it: never a prompt, an output or a credential. */
export const activityItem = z.object({
  seq: z.number().int().positive(),
  time: z.string(),
  app: z.string().nullable(),
  host: z.string(),
  provider: z.string().nullable(),
  model: z.string().nullable(),
  decision: z.enum(['allow', 'redact', 'warn', 'block', 'error']),
  /** The rules that fired, each with its explanation in words (what kind of thing, never the thing). */
  rules: z.array(z.object({ id: z.string(), action: z.string(), explanation: z.string() })),
  /** What the person can do next, in plain words; null for a plain allow. */
  advice: z.string().nullable(),
  inputTokens: z.number().int().nullable(),
  outputTokens: z.number().int().nullable(),
  costUsd: z.number().nullable(),
  latencyMs: z.number().nullable(),
});
export type ActivityItem = z.infer<typeof activityItem>;

/** A page of activity; `nextBefore` fetches the next (older) page, null at the end. */
export const activityPage = z.object({ items: z.array(activityItem), nextBefore: z.number().int().positive().nullable() });
export type ActivityPage = z.infer<typeof activityPage>;

/** One budget window as the tray shows it. */
export const budgetView = z.object({
  /** The policy budget's id, `vk:ID` for a key's own budget, `default:PRINCIPAL`. */
  id: z.string(),
  /** Whom it applies to: `org`, `team:X`, `user:X`, `vk:X`. */
  scope: z.string(),
  period: z.string(),
  limitUsd: z.number().nonnegative(),
  spentUsd: z.number().nonnegative(),
  /** Spend promised to requests still running. */
  reservedUsd: z.number().nonnegative(),
  /** When this window ends and the budget starts again (ISO 8601). */
  resetsAt: z.string(),
});
export type BudgetView = z.infer<typeof budgetView>;

/** `GET /v1/budgets`: what this user may spend, per principal they act as. */
export const budgetsView = z.object({
  principals: z.array(
    z.object({
      /** `user:NAME` (requests without a virtual key) or `vk:ID`. */
      id: z.string(),
      kind: z.enum(['user', 'virtual-key']),
      budgets: z.array(budgetView),
    }),
  ),
  /** The virtual keys this user may pick (owned by them, their device, one of their teams or the org). */
  virtualKeys: z.array(z.object({ id: z.string(), owner: z.string(), revoked: z.boolean() })),
  /**
   * The key picked in the tray (`POST /v1/virtual-key`), or null: requests that carry no virtual key
   * of their own run as it. Null too when the pick no longer applies (revoked, or gone from policy).
   */
  selected: z.string().nullable(),
});
export type BudgetsView = z.infer<typeof budgetsView>;

/** `POST /v1/virtual-key`: pick a virtual key for this user's requests (an id from `GET /v1/budgets`), or null for none. */
export const virtualKeySelection = z.strictObject({ id: z.string().min(1).max(128).nullable() });
export type VirtualKeySelection = z.infer<typeof virtualKeySelection>;

/**
 * `GET /v1/events` (server-sent events): `event: <type>` with one of these as `data`. `status` comes
 * first on connect and on every change; `decision` for each request that was not a plain allow;
 * `budget` when a budget's spend crosses 80% or 100% of its limit in the current window.
 */
export const controlEvent = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('status'),
    state: z.enum(['protected', 'degraded', 'paused']),
    degraded: z.array(z.string()),
    /** When a pause ends by itself (ISO 8601); null when not paused. */
    pausedUntil: z.string().nullable().optional(),
  }),
  z.object({ type: z.literal('decision'), item: activityItem.omit({ seq: true }) }),
  z.object({
    type: z.literal('budget'),
    budgetId: z.string(),
    scope: z.string(),
    /** 80 or 100. */
    threshold: z.number().int(),
    spentUsd: z.number(),
    limitUsd: z.number(),
    resetsAt: z.string(),
  }),
]);
export type ControlEvent = z.infer<typeof controlEvent>;

/** `POST /v1/diagnostics/export`: the zip written (readable by this user only). */
export const diagnosticsExport = z.object({ file: z.string(), bytes: z.number().int().positive(), entries: z.array(z.string()) });
export type DiagnosticsExport = z.infer<typeof diagnosticsExport>;

/** `POST /v1/pause`: pause interception for this many minutes (at most the policy's `pause.maxMinutes`). */
export const pauseRequest = z.strictObject({ minutes: z.number().int().min(1).max(1440) });
export type PauseRequest = z.infer<typeof pauseRequest>;
