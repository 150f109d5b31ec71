/**
 * The Gate: governance on the engine's side of the seam. It recognises the provider API, asks the
 * core to decide, swaps a virtual key for the provider key, rewrites the body when guardrails
 * redacted it (or to ask for streaming usage), and returns a tap that settles and audits the
 * response. Refusals never leave the machine: they are answered in the provider's error shape.
 *
 * Every answer the gate gives is audited: admissions through the tap, refusals (the audit log
 * unable to record under fail-closed included), over-bound bodies and upstream failures here.
 *
 * The gate never throws to the engine. An internal failure (a keychain that rejects, an adapter or
 * detector that throws, an audit sink that throws) becomes a decision (gate-failure.ts): fail open
 * forwards with every virtual key stripped (`error-open`), fail closed answers a provider-shaped
 * 503 (`error-closed`); it is recorded with the error, counted (`onFailure`) and shown in `health()`.
 *
 * The composition root builds it once and calls `setPolicy` on each new policy version:
 *
 *   const gate = createGate({ policy, audit, auditHealth: store.audit, secrets, identity });
 *   gate.importState(saved.document); gate.replay(store.audit.recordsAfter(saved.throughSeq));
 *   startProxy({ gate, ... });
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { BudgetShortfall } from '../../shared/core/budgets.js';
import { Governor, type GovernorState, type Grant, type RecordedSpend, type ReplayTotals, type RequestFacts } from '../../shared/core/decide.js';
import { redactForAudit, type CompiledGuardrail } from '../../shared/core/guardrails/engine.js';
import type { DetectorFactories } from '../../shared/core/guardrails/registry.js';
import { genaiPriceTable, type PriceTable } from '../../shared/core/pricing.js';
import type { Identity } from '../../shared/core/principals.js';
import { findCredentials, VIRTUAL_KEY_PREFIX, type Credential } from '../../shared/core/virtual-keys.js';
import { awsCredentials, resign, type AwsCredentials } from '../../shared/providers/bedrock/resign.js';
import { grpcCall } from '../../shared/providers/grpc.js';
import { opaqueCall } from '../../shared/providers/opaque.js';
import { realtimeEndpoint } from '../../shared/providers/openai/realtime.js';
import { matchEndpoint } from '../../shared/providers/registry.js';
import type { Endpoint, ParsedRequest, ProviderAdapter } from '../../shared/providers/types.js';
import { isWebApp } from '../../shared/providers/web-apps/index.js';
import type { AuditEntry, FiredRule } from '../../shared/schema/audit.js';
import type { UnreadSummary } from '../../shared/schema/control.js';
import type { Policy } from '../../shared/schema/policy.js';
import { auditRedactionRules } from '../../shared/audit/privacy.js';
import { auditEntry, capText, NO_USAGE, type EntryBase } from './gate-audit.js';
import { requestMetadata } from './gate-metadata.js';
import { DEGRADED_FOR_MS, failureText, stripVirtualKeys, type GateFailure, type GateFailureStage, type GateHealth } from './gate-failure.js';
import { priceTableVersion } from './gate-price-version.js';
import { decisionHeader, denialAnswer, errorAnswer } from './gate-respond.js';
import { McpGovernor } from './gate-mcp.js';
import { RealtimeSession, type RealtimeDeps } from './gate-realtime.js';
import { createTap } from './gate-tap.js';
import { barePath, sendsData, UnreadLog, UnreadTap } from './gate-unread.js';
import type { Admission, AuditHealth, AuditSink, ConnectEvent, Forward, Gate, GatewayRoute, InterceptedRequest, Respond } from './seam.js';
import { FORWARD_HEADERS, GATEWAY_KEY_PLACEHOLDER } from '../../shared/protocol/gateway-forward.js';
import { GATEWAY_SECRET_REF } from '../../shared/schema/common.js';
import { OutpostError } from '../../shared/errors.js';

/** Resolves `keychain:NAME` references (the agent's `SecretResolver` is one). */
export interface ProviderKeyResolver {
  resolve(ref: string): Promise<string | null>;
}

/** What the gate is built from. */
export interface GateDeps {
  readonly policy: Policy;
  readonly audit: AuditSink;
  /** Fail-closed auditing: while `canAccept()` is false every request is refused (503) and recorded. */
  readonly auditHealth?: AuditHealth;
  readonly secrets: ProviderKeyResolver;
  readonly identity: Identity;
  /** Wall-clock epoch ms (budget windows, record times). Default `Date.now`. */
  readonly now?: () => number;
  /** Default: `@pydantic/genai-prices`, its installed version recorded on each priced record. */
  readonly prices?: PriceTable;
  /** Guardrail detectors by type. Default: the built-in registry (`DETECTORS`). */
  readonly detectors?: DetectorFactories;
  /** Hears every internal failure the gate turned into a decision (the agent logs and counts them). */
  readonly onFailure?: (failure: GateFailure) => void;
  /**
   * A fleet budget refused a request for want of this device's grant: resolves once the central
   * gateway answered an ask for more (the request is then decided once more), or null when asking
   * is useless (the fleet has nothing left, no connection): the refusal stands.
   */
  readonly askGrant?: (shortfall: BudgetShortfall) => Promise<void> | null;
  /**
   * Gateway mode: the route to the central gateway for virtual keys whose provider key is
   * `gateway:NAME`; null while the device is not enrolled (such requests are then refused).
   */
  readonly gatewayRoute?: () => GatewayRoute | null;
  /** The virtual key the user picked in the tray (its id), or null (`RequestFacts.selectedKeyId`). */
  readonly selectedKey?: () => string | null;
  /** The organisation's app decisions: a refusal for a request from this User-Agent, or null (issue 14.3). */
  readonly appRefusal?: (userAgent: string | undefined, process: { readonly exe: string } | null) => { readonly name: string; readonly reason: 'denied' | 'pending'; readonly message: string } | null;
  /** True when some app could be refused (one denied, or undecided ones blocked): only then does a decision wait for the owning process. */
  readonly appsRestricted?: () => boolean;
}

/** The Gate plus what the composition root needs beyond the seam. */
export interface OutpostGate extends Gate {
  /** Switches to a new (validated) policy; counters are kept. */
  setPolicy(policy: Policy): void;
  /** Budget and rate counters as plain JSON, for the state store. */
  exportState(): GovernorState;
  /** Restores counters saved by `exportState` (windows that have passed are ignored). */
  importState(state: GovernorState): void;
  /**
   * Charges spend the imported counters miss: the audit records written after the counters were
   * saved (`store.audit.recordsAfter(throughSeq)`, e.g. before a kill -9). Call after `importState`.
   */
  replay(records: Iterable<RecordedSpend>): ReplayTotals;
  /** The core, for status views (budgets, rate counters). */
  readonly governor: Governor;
  /** Internal failures so far (status shows the gate degraded while the last one is recent). */
  health(): GateHealth;
  /** Calls on intercepted hosts no adapter reads, since start (status `unread`). */
  unread(): UnreadSummary;
}

const CREDENTIAL_HEADERS = ['authorization', 'x-api-key', 'x-goog-api-key', 'api-key', 'x-outpost-vk'] as const;

/** The AWS credentials a keychain secret holds, or null when it is absent or not their JSON. */
function readAwsCredentials(secret: string | null): AwsCredentials | null {
  if (secret === null) return null;
  try {
    return awsCredentials.parse(JSON.parse(secret));
  } catch {
    return null;
  }
}

/** A signed request's headers without its signature (and the length the engine sets): re-signing adds new ones. */
function withoutSignature(headers: InterceptedRequest['headers']): Forward['headers'] {
  const out: Forward['headers'] = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name === 'authorization' || name === 'content-length' || name.startsWith('x-amz-')) continue;
    out[name] = value;
  }
  return out;
}

function withoutQueryKey(path: string): string {
  const q = path.indexOf('?');
  if (q === -1) return path;
  const params = new URLSearchParams(path.slice(q + 1));
  if (!params.has('key')) return path;
  params.delete('key');
  const rest = params.toString();
  return rest.length > 0 ? `${path.slice(0, q)}?${rest}` : path.slice(0, q);
}

/** How each CONNECT-level outcome is recorded: the decision, the rule that fired, the status answered. */
const CONNECT_OUTCOMES: Record<ConnectEvent['outcome'], { decision: AuditEntry['decision']; rule: Pick<FiredRule, 'id' | 'kind' | 'action'>; status: number | null }> = {
  blocked: { decision: 'block', rule: { id: 'hosts', kind: 'host-blocked', action: 'deny' }, status: 403 },
  pinned: { decision: 'allow', rule: { id: 'pinning', kind: 'pinned-client', action: 'log' }, status: null },
  // The agent's own failure, not a policy verdict: the host is governed, but no leaf could be had.
  uncertified: { decision: 'error', rule: { id: 'ca', kind: 'ca-cannot-sign', action: 'deny' }, status: 502 },
  // A bypass attempt's verdict follows what the engine did with it (connectOutcome).
  bypass: { decision: 'allow', rule: { id: 'bypass', kind: 'bypass', action: 'log' }, status: null },
};

/** The record's verdict for a CONNECT event: a bypass attempt is `bypass-<kind>`, denied when it was blocked. */
function connectOutcome(event: ConnectEvent): (typeof CONNECT_OUTCOMES)[ConnectEvent['outcome']] {
  const attempt = event.attempt;
  if (event.outcome !== 'bypass' || attempt === undefined) return CONNECT_OUTCOMES[event.outcome];
  const blocked = attempt.action === 'blocked';
  return { decision: blocked ? 'block' : 'allow', rule: { id: 'bypass', kind: `bypass-${attempt.kind}`, action: blocked ? 'deny' : 'log' }, status: null };
}

/** A keychain lookup that rejected (or threw): the stage of the failure it becomes. */
class KeychainFailure extends OutpostError<'KEYCHAIN_FAILED'> {
  constructor(cause: unknown) {
    super('KEYCHAIN_FAILED', cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = cause instanceof Error && cause.name !== 'Error' ? cause.name : 'KeychainFailure';
  }
}

/** Builds the gate. */
export function createGate(deps: GateDeps): OutpostGate {
  const now = deps.now ?? Date.now;
  const governor = new Governor(deps.policy, deps.identity, deps.prices ?? genaiPriceTable(priceTableVersion()), deps.detectors);
  let auditRules: readonly CompiledGuardrail[] = allRules();
  // Requests whose tap already recorded an upstream failure before any response byte (the engine
  // then asks `upstreamFailed` for the answer; the request must not be recorded twice).
  const failedInTap = new Set<string>();
  /** Calls forwarded unread on intercepted hosts, for status. */
  const unread = new UnreadLog(now);
  const realtimeDeps: RealtimeDeps = {
    compiled: () => governor.compiled,
    prices: () => governor.prices,
    base: (request, endpoint, model, texts) => ({ ...base(request, null, null, governor.compiled.principals.resolve(null).id, texts), provider: endpoint.provider, endpoint: 'realtime', model, stream: true }),
    record: (entry) => record(entry),
    charge: (entry) => governor.replay([entry], now()),
    auditRules: () => auditRules,
    now,
  };
  const mcp = new McpGovernor({
    compiled: () => governor.compiled,
    base: (request, provider, endpointName, texts) => ({ ...base(request, null, null, governor.compiled.principals.resolve(null).id, texts), provider, endpoint: endpointName }),
    record: (entry) => record(entry),
    auditRules: () => auditRules,
  });
  let failures = 0;
  let lastFailure: (GateFailure & { readonly at: string }) | null = null;
  let lastFailureMs = 0;
  // The last record the sink refused (null once one is taken again): under fail-closed, requests
  // are refused while it is set, as when the audit log says it cannot record.
  let sinkError: string | null = null;

  /** The endpoint a request is, custom hosts of the policy in force included. */
  function endpointOf(host: string, method: string, path: string): Endpoint | null {
    return matchEndpoint(host, method, path, governor.compiled.providerHosts);
  }

  /** Counts and reports one internal failure; never throws. */
  function noteFailure(stage: GateFailureStage, message: string): void {
    const failure: GateFailure = { stage, message, failMode: governor.compiled.policy.failMode };
    failures++;
    lastFailureMs = now();
    lastFailure = { ...failure, at: new Date(lastFailureMs).toISOString() };
    try {
      deps.onFailure?.(failure);
    } catch {
      // a listener's failure is not the request's
    }
  }

  /**
   * Every record goes through here: a sink that throws is a failure of the gate, not of the
   * request (its decision stands; fail-closed refuses the next ones until the sink takes a record).
   */
  function record(entry: AuditEntry): void {
    try {
      deps.audit.record(entry);
      sinkError = null;
    } catch (err) {
      sinkError = failureText(err);
      noteFailure('audit', `the audit sink refused a record: ${sinkError}`);
    }
    // Detector errors already became decisions (guardrails engine); they count as failures too.
    for (const r of entry.rules) if (r.kind === 'detector-error') noteFailure('detector', r.explanation);
  }

  /** The rules redacting recorded text: the policy's guardrails, plus built-in secrets and PII in `redacted` mode. */
  function allRules(): readonly CompiledGuardrail[] {
    const g = governor.compiled.guardrails;
    return auditRedactionRules(governor.compiled.policy.audit.recordPrompts, [...g.input, ...g.output]);
  }

  function base(request: InterceptedRequest, endpoint: Endpoint | null, parsed: ParsedRequest | null, principal: string | null, texts: readonly string[] | null): EntryBase {
    const record = governor.compiled.policy.audit.recordPrompts;
    const rules = auditRules;
    const prompt = (): string | null => {
      if (record === 'none' || texts === null || texts.length === 0) return null;
      // Every guardrail finding is redacted from the record, whatever the rule's action; in
      // `redacted` mode the built-in secrets and PII detectors' findings too (see allRules).
      let text = capText(redactForAudit(rules, texts).join('\n'));
      if (parsed !== null && parsed.notes.length > 0) text += `\n[${parsed.notes.join(', ')}]`;
      return text;
    };
    return {
      request,
      identity: deps.identity,
      time: new Date(now()).toISOString(),
      provider: endpoint?.provider ?? null,
      endpoint: endpoint?.api ?? null,
      model: parsed?.model ?? null,
      stream: parsed?.stream ?? false,
      principal,
      prompt,
    };
  }

  function refuse(answer: Respond, b: EntryBase, rules: readonly FiredRule[], error: string): Respond {
    record(auditEntry(b, { decision: 'block', rules, status: answer.status, error, latencyMs: performance.now() - b.request.receivedAt, ttfbMs: null, ...NO_USAGE }));
    return answer;
  }

  /**
   * The tap of a call no adapter reads, or null when it is not recorded (a read on an unknown
   * endpoint). Counted for status as it is forwarded (gate-unread.ts).
   */
  function unreadTap(request: InterceptedRequest): UnreadTap | null {
    const path = barePath(request.path);
    const opaque = opaqueCall(request.host, path);
    const grpc = opaque === null ? grpcCall(request.headers['content-type'], path) : null;
    if (opaque === null && grpc === null && !sendsData(request.method)) return null;
    const reason = opaque === null && grpc === null ? 'unknown-endpoint' : 'opaque-protocol';
    unread.note(request.host, request.method, path, reason, request.body.length);
    const explanation = opaque?.reason ?? grpc?.reason ?? `no adapter reads ${request.method} ${path} on ${request.host}: forwarded unread, recorded with its path and size`;
    const rule: FiredRule = { id: 'coverage', kind: reason, action: 'log', target: 'request', explanation };
    const host = opaque === null ? hostEndpoint(request.host) : null;
    const b: EntryBase = { ...base(request, host, null, null, null), provider: opaque?.provider ?? host?.provider ?? null, endpoint: opaque?.endpoint ?? grpc?.endpoint ?? null };
    return new UnreadTap({ base: b, rule, path, log: unread, record });
  }

  /** A request on a governed host that is not an AI call the adapters read (a model list, a web app's asset, a new endpoint). */
  function passThrough(request: InterceptedRequest): Admission | Promise<Admission> {
    const admission = forwardUnread(request);
    if (admission instanceof Promise) return admission.then(withUnreadTap);
    return withUnreadTap(admission);
    function withUnreadTap(a: Admission): Admission {
      return a.kind === 'forward' ? { ...a, tap: unreadTap(request) } : a;
    }
  }

  function forwardUnread(request: InterceptedRequest): Admission | Promise<Admission> {
    const creds = findCredentials(request.headers, request.path);
    const keys = governor.compiled.keys;
    const vkCred = creds.find((c) => keys.lookup(c.value) !== null) ?? null;
    if (vkCred === null) {
      // An unknown virtual key is refused here too: forwarding it would hand it to the provider.
      const unknown = creds.find((c) => c.location === 'x-outpost-vk' || c.value.startsWith(VIRTUAL_KEY_PREFIX));
      if (unknown !== undefined) {
        const adapter = providerAdapterForHost(request.host);
        return errorAnswer(adapter, 'unknown_virtual_key', 'Outpost: this virtual key is not known to the current policy. Check the key, or ask your administrator for a valid one.', decisionHeader('block', 'unknown_virtual_key', ['virtual-keys']));
      }
      return { kind: 'forward', path: request.path, headers: request.headers, body: request.body, decision: 'pass', tap: null };
    }
    // A virtual key must never reach a provider, even on an ungoverned path: swap it if the host's
    // provider key is known, else refuse.
    const endpoint = hostEndpoint(request.host);
    const vk = keys.lookup(vkCred.value);
    const ref = endpoint === null || vk === null ? null : (vk.providerKeys[endpoint.provider] ?? null);
    if (endpoint === null || ref === null) {
      return errorAnswer(endpoint?.adapter ?? null, 'provider_key_missing', 'Outpost: this virtual key has no provider key for this host on this device.', decisionHeader('block', 'provider_key_missing', []));
    }
    return resolveKey(ref).then((key): Admission => {
      if (key === null) return errorAnswer(endpoint.adapter, 'provider_key_missing', `Outpost: the provider key ${ref} is not stored on this device. Run: outpost secret set ${ref.slice('keychain:'.length)}`, decisionHeader('block', 'provider_key_missing', []));
      const headers = swapHeaders(request.headers, vkCred, endpoint, key);
      return { kind: 'forward', path: withoutQueryKey(request.path), headers, body: request.body, decision: 'pass', tap: null };
    });
  }

  /** The endpoint shape of the host's main API (for the provider, its credential header and errors). */
  function hostEndpoint(host: string): Endpoint | null {
    return endpointOf(host, 'POST', '/v1/chat/completions') ?? endpointOf(host, 'POST', '/v1/messages') ?? endpointOf(host, 'POST', '/v1beta/models/m:generateContent');
  }

  function providerAdapterForHost(host: string): ProviderAdapter | null {
    return hostEndpoint(host)?.adapter ?? null;
  }

  function swapHeaders(headers: InterceptedRequest['headers'], vkCred: Credential | null, endpoint: Endpoint, key: string | null): Record<string, string | string[] | number> {
    const out: Record<string, string | string[] | number> = {};
    for (const name in headers) {
      const v = headers[name];
      if (v === undefined || name === 'content-length' || name === 'x-outpost-vk') continue;
      // The header that carried the virtual key goes; with a swap, every credential header goes.
      if (key !== null && (CREDENTIAL_HEADERS as readonly string[]).includes(name)) continue;
      if (vkCred !== null && name === vkCred.location) continue;
      out[name] = v;
    }
    if (key !== null) {
      const [name, value] = endpoint.adapter.credential(endpoint, key);
      out[name] = value;
    }
    return out;
  }

  /** Fail-closed auditing: the refusal while the audit log cannot record (itself recorded, queued by the log). */
  function auditUnavailable(request: InterceptedRequest, endpoint: Endpoint | null, why: string): Respond {
    const answer = errorAnswer(
      endpoint?.adapter ?? null,
      'audit_unavailable',
      `Outpost refused this request because it cannot be audited (${why}) and the policy fails closed. Try again later or contact IT.`,
      decisionHeader('block', 'audit_unavailable', ['audit']),
    );
    const rule: FiredRule = { id: 'audit', kind: 'audit-unavailable', action: 'deny', target: 'request', explanation: `the audit log cannot record (${why}) and the policy fails closed` };
    return refuse(answer, base(request, endpoint, null, null, null), [rule], `audit unavailable: ${why}`);
  }

  /**
   * An internal failure as a decision: fail open forwards unchecked with every virtual key stripped
   * (no tap: nothing is accounted), fail closed answers 503. Recorded either way. Never throws.
   */
  function failed(request: InterceptedRequest, err: unknown, stage: GateFailureStage): Admission {
    try {
      return failure(request, err, stage);
    } catch {
      // Even the failure path failed: nothing is known to be safe to forward.
      return errorAnswer(null, 'internal_error', 'Outpost hit an internal error handling this request, so it was not sent.', decisionHeader('error-closed', 'internal_error', ['gate']));
    }
  }

  function failure(request: InterceptedRequest, err: unknown, stage: GateFailureStage): Admission {
    const message = failureText(err);
    const open = governor.compiled.policy.failMode === 'open';
    noteFailure(stage, message);
    let endpoint: Endpoint | null = null;
    try {
      endpoint = endpointOf(request.host, request.method, request.path);
    } catch {
      // the answer then takes the generic (OpenAI) error shape
    }
    const explanation = `the gate failed (${stage}: ${message}); fail mode ${open ? 'open: forwarded unchecked, virtual keys stripped' : 'closed: refused'}`;
    const rule: FiredRule = { id: 'gate', kind: 'internal-error', action: open ? 'log' : 'deny', target: 'request', explanation };
    let answer: Admission;
    if (open) {
      const { headers, path } = stripVirtualKeys(request, (v) => governor.compiled.keys.lookup(v) !== null);
      answer = { kind: 'forward', path, headers, body: request.body, decision: decisionHeader('error-open', 'internal_error', ['gate']), tap: null };
    } else {
      const text = 'Outpost could not check this request (an internal error) and the policy fails closed, so it was not sent. Try again; if it persists, contact IT.';
      answer = errorAnswer(endpoint?.adapter ?? null, 'internal_error', text, decisionHeader('error-closed', 'internal_error', ['gate']));
    }
    try {
      const b = base(request, endpoint, null, null, null);
      record(auditEntry(b, { decision: 'error', rules: [rule], status: open ? null : 503, error: `gate failed (${stage}): ${message}`, latencyMs: performance.now() - request.receivedAt, ttfbMs: null, ...NO_USAGE }));
    } catch (recordErr) {
      noteFailure('audit', `cannot build the record of a failure: ${failureText(recordErr)}`);
    }
    return answer;
  }

  /** The seam's `admit`: the decision, with any internal failure turned into one (never a throw). */
  function admit(request: InterceptedRequest): Admission | Promise<Admission> {
    let admission: Admission | Promise<Admission>;
    try {
      admission = decide(request);
    } catch (err) {
      return failed(request, err, 'admit');
    }
    if (admission instanceof Promise) return admission.catch((err: unknown) => failed(request, err, err instanceof KeychainFailure ? 'keychain' : 'admit'));
    return admission;
  }

  function decide(request: InterceptedRequest, grantAsked = false, ownerAwaited = false): Admission | Promise<Admission> {
    const endpoint = endpointOf(request.host, request.method, request.path);
    // HOT PATH: two boolean checks before the real decision.
    const health = deps.auditHealth;
    if (health !== undefined && !health.canAccept()) return auditUnavailable(request, endpoint, health.health().reason ?? 'the audit log cannot record');
    if (sinkError !== null && governor.compiled.policy.failMode === 'closed') return auditUnavailable(request, endpoint, `the audit sink refused a record: ${sinkError}`);
    // A streamed body (gRPC, Connect streams) cannot be read: forwarded as it is, recorded at host level.
    if (request.streamed === true) return passThrough(request);
    if (endpoint === null) return mcp.admit(request) ?? passThrough(request);
    const adapter = endpoint.adapter;
    const appRefused = deps.appRefusal?.(request.headers['user-agent'], request.owner?.current ?? null) ?? null;
    // An app its User-Agent does not name may be named by its process: wait for the lookup (off the
    // hot path unless some app is restricted, and once per connection), then decide again.
    const owner = request.owner;
    if (appRefused === null && !ownerAwaited && owner?.current === null && owner.ready !== undefined && deps.appsRestricted?.() === true) {
      return owner.ready.then(() => decide(request, grantAsked, true));
    }
    if (appRefused !== null) {
      const rule: FiredRule = { id: 'inventory', kind: `app-${appRefused.reason}`, action: 'deny', target: 'request', explanation: appRefused.reason === 'denied' ? `the app "${appRefused.name}" is denied by the organisation` : `the app "${appRefused.name}" waits for the organisation's approval, and undecided apps are blocked` };
      return refuse(errorAnswer(adapter, 'app_denied', `${appRefused.message}. Ask your IT team to approve it.`, decisionHeader('block', 'app_denied', ['inventory'])), base(request, endpoint, null, null, null), [rule], `app ${appRefused.reason}: ${appRefused.name}`);
    }
    let body: unknown;
    try {
      body = JSON.parse(request.body.toString('utf8'));
    } catch {
      // An AI call whose body cannot be read cannot be checked, so it does not leave the machine.
      const b = base(request, endpoint, null, null, null);
      const message = 'Outpost could not read this request body as JSON, so it cannot be checked. Send a JSON body.';
      const rule: FiredRule = { id: 'request', kind: 'unreadable-body', action: 'deny', target: 'request', explanation: 'the body of an AI API call is not JSON' };
      return refuse(errorAnswer(adapter, 'invalid_request', message, decisionHeader('block', 'invalid_request', ['request'])), b, [rule], 'request body is not JSON');
    }
    const parsed = adapter.parse(endpoint, body);
    const metered = !isWebApp(endpoint);
    const facts: RequestFacts = {
      provider: endpoint.provider,
      model: parsed.model,
      credentials: findCredentials(request.headers, request.path),
      texts: parsed.texts,
      metadata: requestMetadata(request.headers, request.path, !metered),
      promptChars: parsed.promptChars,
      maxOutputTokens: parsed.maxOutputTokens,
      metered,
      signedIn: endpoint.signedIn === true,
      selectedKeyId: deps.selectedKey?.() ?? null,
    };
    const result = governor.admit(facts, now());
    if (!result.ok) {
      // Refused for want of this device's fleet grant: ask the gateway once, then decide again.
      if (!grantAsked && result.budget?.reason === 'grant' && deps.askGrant !== undefined) {
        const asked = deps.askGrant(result.budget);
        if (asked !== null) return asked.then(() => decide(request, true, ownerAwaited));
      }
      const b = base(request, endpoint, parsed, result.principal?.id ?? null, parsed.texts);
      return refuse(denialAnswer(adapter, result.denial), b, result.rules, result.denial.code);
    }
    // A failure after the grant releases its reservations before it becomes a decision.
    const go = (key: string | null): Admission | Promise<Admission> => {
      try {
        return forward(request, endpoint, body, parsed, result, key, metered);
      } catch (err) {
        governor.abandon(result);
        throw err;
      }
    };
    if (result.providerKeyRef === null) return go(null);
    const ref = result.providerKeyRef;
    if (GATEWAY_SECRET_REF.test(ref)) return viaGateway(request, endpoint, body, parsed, result, metered);
    return resolveKey(ref).then(
      (key) => {
        if (key !== null) return go(key);
        governor.abandon(result);
        const b = base(request, endpoint, parsed, result.principal.id, parsed.texts);
        const message = `Outpost: the provider key "${ref}" for virtual key "${result.principal.vk?.id ?? ''}" is not stored on this device. Run: outpost secret set ${ref.slice('keychain:'.length)}`;
        return refuse(errorAnswer(adapter, 'provider_key_missing', message, decisionHeader('block', 'provider_key_missing', [])), b, result.rules, 'provider key missing');
      },
      (err: unknown) => {
        governor.abandon(result);
        throw err;
      },
    );
  }

  /**
   * A redaction on a signed request, with device credentials to sign it again: the body is
   * rewritten, then signed with the policy's credentials (`bedrock.resignWith`). Credentials that
   * are missing or unreadable refuse the request, naming the fix.
   */
  function resigned(request: InterceptedRequest, endpoint: Endpoint, body: unknown, parsed: ParsedRequest, grant: Grant, ref: string, metered: boolean): Promise<Admission> {
    return resolveKey(ref).then(
      async (secret): Promise<Admission> => {
        const credentials = readAwsCredentials(secret);
        if (credentials === null) {
          governor.abandon(grant);
          const b = base(request, endpoint, parsed, grant.principal.id, parsed.texts);
          const why = secret === null ? `is not stored on this device. Run: outpost secret set ${ref.slice('keychain:'.length)}` : 'is not JSON { "accessKeyId", "secretAccessKey", "sessionToken"? }';
          const message = `Outpost: this request must be redacted and signed again, but the Bedrock credentials ${ref} ${why}`;
          return refuse(errorAnswer(endpoint.adapter, 'provider_key_missing', message, decisionHeader('block', 'provider_key_missing', [])), b, grant.rules, 'bedrock credentials unavailable');
        }
        endpoint.adapter.rewriteTexts(endpoint, body, grant.redacted ?? []);
        const outBody = Buffer.from(JSON.stringify(body));
        const signed = await resign({ host: request.host, path: request.path, headers: request.headers, body: outBody }, credentials, now());
        return tapped(request, endpoint, parsed, grant, metered, { path: request.path, headers: { ...withoutSignature(request.headers), ...signed }, body: outBody, injectedUsage: false });
      },
      (err: unknown) => {
        governor.abandon(grant);
        throw err;
      },
    );
  }

  /**
   * A redaction on a request the client signed (SigV4 over the body): changing a byte would fail
   * the signature at the provider, so the redaction becomes a block, and the record says why.
   */
  function signedCannotRedact(request: InterceptedRequest, endpoint: Endpoint, parsed: ParsedRequest, grant: Grant): Respond {
    governor.abandon(grant);
    const why = 'the request is signed by the client (AWS SigV4): redacting it would break the signature, so it is blocked';
    const rules = grant.rules.map((r): FiredRule => (r.action === 'redact' ? { ...r, action: 'block', explanation: `${r.explanation} (${why})` } : r));
    const ids = rules.filter((r) => r.action === 'block').map((r) => r.id);
    const message = `Outpost blocked this request: it contains what rule "${ids[0] ?? 'guardrails'}" must redact, and ${why}. Remove it and try again.`;
    const b = base(request, endpoint, parsed, grant.principal.id, parsed.texts);
    return refuse(errorAnswer(endpoint.adapter, 'guardrail_blocked', message, decisionHeader('block', 'guardrail_blocked', ids)), b, rules, 'guardrail_blocked');
  }

  /**
   * Gateway mode: the provider key is held by the central gateway. The request, decided like any
   * other, goes to the gateway with the virtual key (which the gateway checks again) and a
   * placeholder where the provider key goes (the gateway puts the key there).
   */
  function viaGateway(request: InterceptedRequest, endpoint: Endpoint, body: unknown, parsed: ParsedRequest, grant: Grant, metered: boolean): Admission | Promise<Admission> {
    const route = deps.gatewayRoute?.() ?? null;
    const vk = grant.vkCredential;
    if (route === null || vk === null) {
      governor.abandon(grant);
      const b = base(request, endpoint, parsed, grant.principal.id, parsed.texts);
      const message = `Outpost: the provider key of virtual key "${grant.principal.vk?.id ?? ''}" is held by the central gateway, and this device is not enrolled with one (outpost enroll).`;
      return refuse(errorAnswer(endpoint.adapter, 'gateway_unavailable', message, decisionHeader('block', 'gateway_unavailable', [])), b, grant.rules, 'gateway mode without enrollment');
    }
    const toGateway = (a: Admission): Admission => (a.kind === 'forward' ? { ...a, headers: { ...a.headers, ...route.headers, [FORWARD_HEADERS.virtualKey]: vk.value }, via: route } : a);
    try {
      const admitted = forward(request, endpoint, body, parsed, grant, GATEWAY_KEY_PLACEHOLDER, metered);
      return admitted instanceof Promise ? admitted.then(toGateway) : toGateway(admitted);
    } catch (err) {
      governor.abandon(grant);
      throw err;
    }
  }

  /** The keychain's answer; a rejection (or a throw) is a `KeychainFailure`. */
  function resolveKey(ref: string): Promise<string | null> {
    try {
      return deps.secrets.resolve(ref).catch((err: unknown) => {
        throw new KeychainFailure(err);
      });
    } catch (err) {
      return Promise.reject(new KeychainFailure(err));
    }
  }

  function forward(request: InterceptedRequest, endpoint: Endpoint, body: unknown, parsed: ParsedRequest, grant: Grant, key: string | null, metered: boolean): Admission | Promise<Admission> {
    const adapter = endpoint.adapter;
    if (grant.redacted !== null && endpoint.signed === true) {
      const ref = governor.compiled.policy.bedrock.resignWith;
      if (ref === undefined) return signedCannotRedact(request, endpoint, parsed, grant);
      return resigned(request, endpoint, body, parsed, grant, ref, metered);
    }
    if (grant.redacted !== null) adapter.rewriteTexts(endpoint, body, grant.redacted);
    const injectedUsage = adapter.prepare(endpoint, body, parsed);
    const outBody = grant.redacted !== null || injectedUsage ? Buffer.from(JSON.stringify(body)) : request.body;
    const needsHeaders = key !== null || grant.vkCredential !== null || request.headers['x-outpost-vk'] !== undefined;
    const headers = needsHeaders ? swapHeaders(request.headers, grant.vkCredential, endpoint, key) : request.headers;
    const path = grant.vkCredential?.location === 'query-key' || key !== null ? withoutQueryKey(request.path) : request.path;
    return tapped(request, endpoint, parsed, grant, metered, { path, headers, body: outBody, injectedUsage });
  }

  /** The forward of an admitted request, with the tap that settles and records its response. */
  function tapped(
    request: InterceptedRequest,
    endpoint: Endpoint,
    parsed: ParsedRequest,
    grant: Grant,
    metered: boolean,
    out: { readonly path: string; readonly headers: Forward['headers']; readonly body: Buffer; readonly injectedUsage: boolean },
  ): Forward {
    const { path, headers, body: outBody, injectedUsage } = out;
    const policy = governor.compiled.policy;
    const b = base(request, endpoint, parsed, grant.principal.id, parsed.texts);
    const tap = createTap({
      governor,
      grant,
      endpoint,
      parsed,
      injectedUsage,
      metered,
      outputRules: governor.compiled.guardrails.output,
      auditRules,
      failMode: policy.failMode,
      recordOutput: policy.audit.recordPrompts !== 'none',
      base: b,
      record,
      upstreamDown: () => {
        // Bounded: the engine asks `upstreamFailed` right after, which removes the id.
        if (failedInTap.size >= 10_000) failedInTap.clear();
        failedInTap.add(request.id);
      },
      now,
    });
    return {
      kind: 'forward',
      path,
      headers,
      body: outBody,
      decision: decisionHeader(
        grant.decision,
        null,
        grant.rules.map((r) => r.id),
      ),
      tap,
    };
  }

  return {
    governor,
    get failMode() {
      return governor.compiled.policy.failMode;
    },
    get bypassPolicy() {
      return governor.compiled.policy.interception;
    },
    classify: (host) => governor.compiled.classify(host),
    admit,
    websocket(request) {
      // A virtual key cannot be swapped inside a WebSocket handshake yet: refused, never forwarded.
      const keys = governor.compiled.keys;
      if (findCredentials(request.headers, request.path).some((c) => keys.lookup(c.value) !== null || c.value.startsWith(VIRTUAL_KEY_PREFIX))) {
        return errorAnswer(null, 'virtual_key_unsupported', 'Outpost: virtual keys are not supported on WebSocket sessions yet; use your own provider key for realtime sessions.', decisionHeader('block', 'virtual_key_unsupported', ['virtual-keys']));
      }
      const endpoint = realtimeEndpoint(request.host, request.path);
      return endpoint === null ? null : new RealtimeSession(request, endpoint, realtimeDeps);
    },
    whenRecorded(callback) {
      // A sink without the hook is durable when `record` returns; one whose hook throws will not call back.
      if (deps.audit.whenDurable === undefined) {
        callback();
        return;
      }
      try {
        deps.audit.whenDurable(callback);
      } catch (err) {
        noteFailure('audit', `the audit sink cannot say when records are durable: ${failureText(err)}`);
        callback();
      }
    },
    connect(event: ConnectEvent) {
      const outcome = connectOutcome(event);
      const entry: AuditEntry = {
        id: randomUUID(),
        time: new Date(now()).toISOString(),
        kind: 'connect',
        device: deps.identity.device,
        user: deps.identity.user,
        app: event.app,
        host: event.host,
        provider: null,
        endpoint: null,
        method: 'CONNECT',
        model: null,
        stream: false,
        principal: null,
        decision: outcome.decision,
        rules: [{ ...outcome.rule, target: 'request', explanation: event.reason }],
        status: outcome.status,
        error: outcome.decision === 'error' ? event.reason : null,
        latencyMs: null,
        ttfbMs: null,
        ...NO_USAGE,
        prompt: null,
        headers: {},
        door: event.door ?? 'proxy',
      };
      record(entry);
    },
    tooLarge(request, limitBytes) {
      const endpoint = endpointOf(request.host, request.method, request.path);
      const answer = errorAnswer(endpoint?.adapter ?? null, 'request_too_large', `Outpost: the request body is larger than the ${limitBytes} bytes it can check. Send a smaller request.`, decisionHeader('block', 'request_too_large', ['body-limit']));
      const b = base({ ...request, body: Buffer.alloc(0) }, endpoint, null, null, null);
      return refuse(answer, b, [{ id: 'body-limit', kind: 'request-too-large', action: 'deny', target: 'request', explanation: `the body exceeds the ${limitBytes} bytes the agent reads before deciding` }], 'request body too large');
    },
    upstreamFailed(request, error) {
      const endpoint = endpointOf(request.host, request.method, request.path);
      const answer = errorAnswer(endpoint?.adapter ?? null, 'upstream_error', `Outpost could not reach ${request.host}: ${error.message}`, decisionHeader('error', 'upstream_error', []));
      // An AI call is recorded as failed once: by its tap when it had one, else here (the gate
      // itself failed under fail-closed, or the forward never got a tap). Other calls pass unrecorded.
      if (failedInTap.delete(request.id) || endpoint === null) return answer;
      const b = base(request, endpoint, null, null, null);
      record(auditEntry(b, { decision: 'error', rules: [], status: answer.status, error: `upstream failed: ${error.message}`, latencyMs: performance.now() - request.receivedAt, ttfbMs: null, ...NO_USAGE }));
      return answer;
    },
    setPolicy(policy) {
      governor.setPolicy(policy);
      auditRules = allRules();
    },
    unread: () => unread.summary(),
    health: () => ({ failures, last: lastFailure, degraded: lastFailure !== null && now() - lastFailureMs < DEGRADED_FOR_MS }),
    exportState: () => governor.exportState(now()),
    importState: (state) => governor.importState(state, now()),
    replay: (records) => governor.replay(records, now()),
  };
}
