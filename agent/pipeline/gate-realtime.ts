/**
 * Realtime sessions (the OpenAI Realtime API over WebSocket), governed message by message:
 * - client events with text (items, instructions) go through the input guardrails: a blocked one
 *   is not forwarded and the client gets an `error` event naming the rule (and a record); a
 *   redacted one is forwarded rewritten;
 * - each `response.done` writes one audit record: model, tokens (text and audio), cost at the
 *   model's text and audio rates, the output transcript as `audit.recordPrompts` says, and the
 *   rules that fired on the input since the last response.
 * Audio passes untouched and unread; a record of a response with audio says so. Each response's
 * tokens and cost are charged to the principal's rate windows and budgets after it happened (a
 * session is not refused up front when a budget is spent; the next API call is).
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { CompiledPolicy } from '../../shared/core/compile-policy.js';
import { evaluateGuardrails, redactForAudit, type CompiledGuardrail } from '../../shared/core/guardrails/engine.js';
import type { PriceTable } from '../../shared/core/pricing.js';
import { parseObject } from '../../shared/providers/json-walk.js';
import { clientEventTexts, isClientAudio, readServerEvent, refusalEvent, rewriteClientEvent, type RealtimeEndpoint, type RealtimeUsage } from '../../shared/providers/openai/realtime.js';
import type { AuditEntry, Decision, FiredRule } from '../../shared/schema/audit.js';
import { auditEntry, capText, NO_USAGE, type EntryBase } from './gate-audit.js';
import type { InterceptedRequest, WebSocketSession } from './seam.js';

/** What a session borrows from the gate. */
export interface RealtimeDeps {
  compiled(): CompiledPolicy;
  prices(): PriceTable;
  /** The record's base for `request` with `model` and the prompt `texts`. */
  base(request: InterceptedRequest, endpoint: RealtimeEndpoint, model: string | null, texts: readonly string[] | null): EntryBase;
  record(entry: AuditEntry): void;
  /** Charges a recorded response's tokens and cost to the principal's rate windows and budgets. */
  charge(entry: AuditEntry): void;
  auditRules(): readonly CompiledGuardrail[];
  now(): number;
}

const AUDIO_RULE: FiredRule = { id: 'realtime', kind: 'audio-unread', action: 'log', target: 'request', explanation: 'audio passed untouched: it is not read, so no guardrail checked it' };

/** One governed realtime session. */
export class RealtimeSession implements WebSocketSession {
  private model: string | null;
  /** Input texts and rules since the last response (the next record's). */
  private texts: string[] = [];
  private rules: FiredRule[] = [];
  private redacted = false;
  private output = '';
  private audio = false;
  /** When the current response's first input arrived (its latency's start). */
  private since: number;

  constructor(
    private readonly request: InterceptedRequest,
    private readonly endpoint: RealtimeEndpoint,
    private readonly deps: RealtimeDeps,
  ) {
    this.model = endpoint.model;
    this.since = request.receivedAt;
  }

  fromClient(text: string): { forward: string | null; reply: string | null } {
    if (isClientAudio(text)) {
      this.audio = true;
      return { forward: text, reply: null };
    }
    const event = parseObject(text);
    if (event === null) return { forward: text, reply: null };
    const texts = clientEventTexts(event);
    if (texts.length === 0) return { forward: text, reply: null };
    const compiled = this.deps.compiled();
    const g = evaluateGuardrails(compiled.guardrails.input, texts, 'input', compiled.policy.failMode);
    if (g.action === 'block') {
      const by = g.blockedBy;
      const found = g.rules.find((r) => r.id === by?.id);
      const message = by?.message ?? `Outpost blocked this message: ${found?.explanation ?? 'a guardrail fired'} (rule "${by?.id ?? 'guardrails'}"). It was not sent.`;
      this.refused(texts, [...g.rules], message);
      return { forward: null, reply: refusalEvent(event['event_id'], 'guardrail_blocked', message) };
    }
    this.texts.push(...texts);
    this.rules.push(...g.rules);
    if (g.redacted !== null) {
      rewriteClientEvent(event, g.redacted);
      this.redacted = true;
      return { forward: JSON.stringify(event), reply: null };
    }
    return { forward: text, reply: null };
  }

  fromServer(text: string): void {
    const info = readServerEvent(text);
    switch (info.kind) {
      case 'audio':
        this.audio = true;
        return;
      case 'model':
        this.model = info.model;
        return;
      case 'text':
        if (this.output.length < 1024 * 1024) this.output += info.text;
        return;
      case 'done':
        this.responded(info.usage, info.status);
        return;
      case 'other':
        return;
      default: {
        const never: never = info;
        throw new Error(`unknown realtime event ${String(never)}`);
      }
    }
  }

  closed(_error: string | null): void {
    // Responses are recorded as they finish; a session that ends mid-response has no usage to record.
  }

  /** One record per response, at `response.done`. */
  private responded(usage: RealtimeUsage | null, status: string | null): void {
    const compiled = this.deps.compiled();
    const at = this.deps.now();
    const tokens = {
      inputTokens: usage?.inputTokens ?? 0,
      outputTokens: usage?.outputTokens ?? 0,
      cacheReadTokens: usage?.cacheReadTokens ?? 0,
      cacheWriteTokens: 0,
      inputAudioTokens: usage?.inputAudioTokens ?? 0,
      outputAudioTokens: usage?.outputAudioTokens ?? 0,
    };
    const prices = this.deps.prices();
    const cost = usage === null || this.model === null ? null : prices.cost(this.endpoint.provider, this.model, tokens, new Date(at));
    const rules = [...this.rules];
    if (this.audio || tokens.inputAudioTokens + tokens.outputAudioTokens > 0) rules.push(AUDIO_RULE);
    if (cost === null && usage !== null) rules.push({ id: 'pricing', kind: 'unknown-price', action: 'warn', target: 'request', explanation: `no price for ${this.endpoint.provider}/${this.model ?? '(none)'}` });
    const decision: Decision = this.redacted ? 'redact' : rules.some((r) => r.action === 'warn') ? 'warn' : 'allow';
    const recordOutput = compiled.policy.audit.recordPrompts !== 'none' && this.output.length > 0;
    const base = this.deps.base(this.nextRequest(), this.endpoint, this.model, this.texts);
    const entry = auditEntry(base, {
      decision,
      rules,
      status: 101,
      error: status === 'failed' ? 'the response failed' : null,
      latencyMs: performance.now() - this.since,
      ttfbMs: null,
      inputTokens: usage?.inputTokens ?? null,
      outputTokens: usage?.outputTokens ?? null,
      cachedTokens: usage?.cacheReadTokens ?? null,
      tokensEstimated: false,
      costUsd: cost,
      priceVersion: cost === null ? null : prices.versionFor(this.endpoint.provider),
      output: recordOutput ? capText(redactForAudit(this.deps.auditRules(), [this.output])[0] ?? '') : null,
    });
    this.deps.record(entry);
    this.deps.charge(entry);
    this.texts = [];
    this.rules = [];
    this.redacted = false;
    this.output = '';
    this.audio = false;
    this.since = performance.now();
  }

  /** A client message refused: its own record. */
  private refused(texts: readonly string[], rules: FiredRule[], message: string): void {
    const base = this.deps.base(this.nextRequest(), this.endpoint, this.model, texts);
    this.deps.record(auditEntry(base, { decision: 'block', rules, status: null, error: message, latencyMs: 0, ttfbMs: null, ...NO_USAGE }));
  }

  /** Each record of the session gets its own id (the session's upgrade request is the template). */
  private nextRequest(): InterceptedRequest {
    return { ...this.request, id: randomUUID() };
  }
}
