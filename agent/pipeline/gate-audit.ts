/**
 * Building audit entries for the gate. Fields by allow-list only: request headers through the audit
 * store's one allow-list (`recordedHeaders`: never credentials, and any secret in an allowed one redacted), prompts and outputs only as policy
 * `audit.recordPrompts` says (agent/audit/privacy.ts), always with every guardrail finding redacted.
 */
import { recordedHeaders } from '../../shared/audit/privacy.js';
import type { AuditEntry, Decision, FiredRule } from '../../shared/schema/audit.js';
import type { Identity } from '../../shared/core/principals.js';
import type { InterceptedRequest } from './seam.js';

/** Longest prompt or output text kept in a record (characters). */
export const MAX_AUDIT_TEXT = 32_768;

/** Caps text for the record. */
export function capText(text: string): string {
  return text.length <= MAX_AUDIT_TEXT ? text : `${text.slice(0, MAX_AUDIT_TEXT)}… [${text.length - MAX_AUDIT_TEXT} more characters]`;
}

/** The parts of an entry known when a request arrives. */
export interface EntryBase {
  readonly request: InterceptedRequest;
  readonly identity: Identity;
  readonly time: string;
  readonly provider: string | null;
  readonly endpoint: string | null;
  readonly model: string | null;
  readonly stream: boolean;
  readonly principal: string | null;
  /** The prompt as recorded; computed when the record is written, off the admission path. */
  readonly prompt: () => string | null;
}

/** What is known once the request has an outcome. */
export interface EntryOutcome {
  readonly decision: Decision;
  readonly rules: readonly FiredRule[];
  readonly status: number | null;
  readonly error: string | null;
  readonly latencyMs: number | null;
  readonly ttfbMs: number | null;
  readonly inputTokens: number | null;
  readonly outputTokens: number | null;
  readonly cachedTokens: number | null;
  readonly tokensEstimated: boolean;
  readonly costUsd: number | null;
  readonly priceVersion: string | null;
  readonly output: string | null;
}

/** A refused or unmetered request's outcome fields left empty. */
export const NO_USAGE = { inputTokens: null, outputTokens: null, cachedTokens: null, tokensEstimated: false, costUsd: null, priceVersion: null, output: null } as const;

/** Assembles one audit entry. */
export function auditEntry(base: EntryBase, outcome: EntryOutcome): AuditEntry {
  const r = base.request;
  return {
    id: r.id,
    time: base.time,
    kind: 'request',
    device: base.identity.device,
    user: base.identity.user,
    app: r.app,
    ...(r.owner?.current == null ? {} : { process: r.owner.current }),
    host: r.host,
    provider: base.provider,
    endpoint: base.endpoint,
    method: r.method,
    model: base.model,
    stream: base.stream,
    principal: base.principal,
    decision: outcome.decision,
    rules: [...outcome.rules],
    status: outcome.status,
    error: outcome.error,
    latencyMs: outcome.latencyMs,
    ttfbMs: outcome.ttfbMs,
    inputTokens: outcome.inputTokens,
    outputTokens: outcome.outputTokens,
    cachedTokens: outcome.cachedTokens,
    tokensEstimated: outcome.tokensEstimated,
    costUsd: outcome.costUsd,
    priceVersion: outcome.priceVersion,
    prompt: base.prompt(),
    output: outcome.output,
    headers: recordedHeaders(r.headers),
    door: r.door ?? 'proxy',
  };
}
