/**
 * Prometheus metrics (`GET /metrics` on the control API), fed from the audit entries the request
 * path already produces: no second bookkeeping on the hot path, one `observe` per finished request.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AuditEntry } from '../../shared/schema/audit.js';
import type { FailMode } from '../../shared/schema/policy.js';

/** The agent's metrics registry. */
export class AgentMetrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'outpost_requests_total',
    help: 'AI requests and blocked CONNECTs, by decision and provider',
    labelNames: ['decision', 'provider', 'kind'] as const,
    registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: 'outpost_request_duration_seconds',
    help: 'Time from request head to the last response byte',
    labelNames: ['provider'] as const,
    buckets: [0.005, 0.025, 0.1, 0.5, 1, 2.5, 5, 15, 60],
    registers: [this.registry],
  });
  private readonly tokens = new Counter({
    name: 'outpost_tokens_total',
    help: 'Tokens accounted, by direction',
    labelNames: ['direction'] as const,
    registers: [this.registry],
  });
  private readonly cost = new Counter({ name: 'outpost_cost_usd_total', help: 'Cost accounted, in US dollars', registers: [this.registry] });
  /** Bypass attempts (issue 20.4), from their `connect` records (rule `bypass-<kind>`). */
  private readonly bypass = new Counter({
    name: 'outpost_bypass_attempts_total',
    help: 'Tries at reaching a governed host around governance (IP literal, fronting, pinned client, ...), by kind and decision',
    labelNames: ['kind', 'decision'] as const,
    registers: [this.registry],
  });
  /** Calls forwarded unread on intercepted hosts (issue 16), from their records (rule `coverage`). */
  private readonly unread = new Counter({
    name: 'outpost_unread_requests_total',
    help: 'Calls on intercepted hosts that no adapter reads (an unknown endpoint, an opaque protocol), forwarded and recorded, by reason and provider',
    labelNames: ['reason', 'provider'] as const,
    registers: [this.registry],
  });
  private readonly gateFailures = new Counter({
    name: 'outpost_gate_failures_total',
    help: 'Internal failures of the gate, each turned into an error-open or error-closed decision, by stage and fail mode',
    labelNames: ['stage', 'fail_mode'] as const,
    registers: [this.registry],
  });
  private readonly upstreamErrors = new Counter({
    name: 'outpost_upstream_errors_total',
    help: 'Requests whose provider could not be reached or broke off mid-answer, by provider',
    labelNames: ['provider'] as const,
    registers: [this.registry],
  });
  /** Set by the agent from its parts' health (1 = degraded). */
  readonly degraded = new Gauge({ name: 'outpost_degraded', help: '1 when a part of the agent is degraded', registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'outpost_process_' });
  }

  /**
   * Gauges read when scraped: audit records not yet written or acknowledged, and leaf certificates
   * cached. (Event-loop lag is among the default metrics: `outpost_process_nodejs_eventloop_lag_seconds`.)
   */
  watch(sources: { readonly spool: () => { readonly pendingInMemory: number; readonly spoolBytes: number }; readonly certificateCache: () => number }): void {
    const registers = [this.registry];
    new Gauge({ name: 'outpost_audit_pending_records', help: 'Audit records waiting in memory to be written', registers, collect() { this.set(sources.spool().pendingInMemory); } });
    new Gauge({ name: 'outpost_audit_spool_bytes', help: 'Bytes of audit records not yet acknowledged by the central gateway', registers, collect() { this.set(sources.spool().spoolBytes); } });
    new Gauge({ name: 'outpost_certificate_cache_entries', help: 'Leaf certificates cached for intercepted hosts', registers, collect() { this.set(sources.certificateCache()); } });
  }

  /** Accounts one finished request or CONNECT event. */
  observe(entry: AuditEntry): void {
    const provider = entry.provider ?? 'none';
    this.requests.inc({ decision: entry.decision, provider, kind: entry.kind });
    if (entry.latencyMs !== null) this.latency.observe({ provider }, entry.latencyMs / 1000);
    // Unreachable before any byte (decision error), or broken off mid-answer (the tap's `upstream failed: …`).
    if (entry.decision === 'error' || entry.error?.startsWith('upstream failed') === true) this.upstreamErrors.inc({ provider });
    const rule = entry.kind === 'connect' ? entry.rules[0] : undefined;
    if (rule?.id === 'bypass') this.bypass.inc({ kind: rule.kind.replace(/^bypass-/, ''), decision: entry.decision });
    if (entry.path !== undefined && entry.rules[0]?.id === 'coverage') this.unread.inc({ reason: entry.rules[0].kind, provider });
    if (entry.inputTokens !== null) this.tokens.inc({ direction: 'input' }, entry.inputTokens);
    if (entry.outputTokens !== null) this.tokens.inc({ direction: 'output' }, entry.outputTokens);
    if (entry.costUsd !== null && entry.costUsd > 0) this.cost.inc(entry.costUsd);
  }

  /** Counts one internal failure of the gate. */
  gateFailure(stage: string, failMode: FailMode): void {
    this.gateFailures.inc({ stage, fail_mode: failMode });
  }

  /** The Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}
