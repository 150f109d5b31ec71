/**
 * The response tap of a governed request. It reads text and usage as the response streams by, runs
 * output guardrails, and at the end settles the reservations and writes the audit record.
 *
 * Two modes for SSE. Observe (the common case): every chunk goes on untouched, events are parsed on
 * the side. Rewrite (the agent added `stream_options.include_usage`, or an output guardrail may
 * redact or block): events are re-emitted one by one; unchanged ones byte for byte, the injected
 * usage chunk dropped, text deltas redacted across chunk boundaries by a `StreamGuard`, and a
 * blocking finding ends the stream with a final error event in the provider's shape. While the guard
 * holds text back, the events carrying it are held whole rather than split, so an event no rule
 * changes still goes on as the provider's own bytes (test/integration/core/byte-identical.test.ts).
 *
 * Hot path: `chunk` runs for every chunk of every governed response.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Governor, Grant } from '../../shared/core/decide.js';
import { evaluateGuardrails, redactForAudit, type CompiledGuardrail } from '../../shared/core/guardrails/engine.js';
import { StreamGuard } from '../../shared/core/guardrails/stream-guard.js';
import type { TokenUsage } from '../../shared/core/pricing.js';
import { countTextTokens, loadTokenizer, tokenizerLoaded } from '../../shared/core/tokens.js';
import { SseParser, type SseEvent } from '../../shared/providers/sse.js';
import type { Endpoint, EventParser, ParsedRequest, ResponseReader } from '../../shared/providers/types.js';
import type { AuditEntry, Decision, FiredRule } from '../../shared/schema/audit.js';
import { auditEntry, capText, type EntryBase } from './gate-audit.js';
import { decisionHeader, errorAnswer } from './gate-respond.js';
import type { Respond, ResponseTap } from './seam.js';
import type { FailMode } from '../../shared/schema/policy.js';

/** Longest response body held or parsed for usage (bytes); larger bodies are estimated. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;
/** Output text kept for token estimates and the audit (characters). */
const MAX_OUTPUT_CHARS = 1024 * 1024;

/** What a tap needs from the gate. */
export interface TapContext {
  readonly governor: Governor;
  readonly grant: Grant;
  readonly endpoint: Endpoint;
  readonly parsed: ParsedRequest;
  /** The agent asked for the usage chunk: strip it from what the client sees. */
  readonly injectedUsage: boolean;
  readonly metered: boolean;
  readonly outputRules: readonly CompiledGuardrail[];
  /** Rules used to redact the audit copy of the output. */
  readonly auditRules: readonly CompiledGuardrail[];
  readonly failMode: FailMode;
  readonly recordOutput: boolean;
  readonly base: EntryBase;
  readonly record: (entry: AuditEntry) => void;
  /** Upstream failed before any response byte; this tap records it (decision `error`, 502). */
  readonly upstreamDown?: () => void;
  readonly now: () => number;
}

/** Creates the tap for one forwarded request. */
export function createTap(ctx: TapContext): ResponseTap {
  return new GateTap(ctx);
}

class GateTap implements ResponseTap {
  readonly readsBody = true;
  stopped = false;
  private status: number | null = null;
  private mode: 'sse-observe' | 'sse-rewrite' | 'json-observe' | 'json-hold' | 'other' = 'other';
  private readonly reader: ResponseReader;
  private parser: EventParser | null = null;
  private guard: StreamGuard | null = null;
  private body: Buffer[] | null = null;
  private bodyBytes = 0;
  private output = '';
  private outputChars = 0;
  private ttfb: number | null = null;
  /**
   * Text events the guard has not released whole yet, oldest first, each with where its text starts
   * in the stream's text. Events are held, not split: one whose text is released unredacted goes on
   * as its original bytes, so a stream no rule changes reaches the client byte for byte.
   */
  private held: Array<{ readonly ev: SseEvent; readonly text: string; readonly start: number }> = [];
  /** Characters of text pushed into the guard, released by it, and sent to the client. */
  private textIn = 0;
  private releasedTo = 0;
  private emittedTo = 0;
  private blocked = false;
  private redactedOutput = false;
  private done = false;
  private extraRules: FiredRule[] = [];
  /** The status the client got instead of upstream's (a refused response), for the record. */
  private answered: number | null = null;

  constructor(private readonly ctx: TapContext) {
    this.reader = ctx.endpoint.adapter.reader(ctx.endpoint);
  }

  head(status: number, headers: IncomingHttpHeaders): boolean {
    this.status = status;
    const type = String(headers['content-type'] ?? '');
    const encoding = String(headers['content-encoding'] ?? 'identity').toLowerCase();
    // The engine asked for identity and decodes what comes compressed anyway; a body still
    // compressed here is one it cannot decode (it calls `unchecked` or `refuse`): pass it on untouched.
    if (encoding !== 'identity' && encoding !== '') return false;
    const ok = status >= 200 && status < 300;
    const rewriting = ok && this.ctx.outputRules.some((r) => r.action === 'redact' || r.action === 'block');
    const binary = this.ctx.endpoint.adapter.streamParser?.(this.ctx.endpoint, type) ?? null;
    if (binary !== null) {
      // A binary event stream (Bedrock) is read, never rewritten: output rules that would redact or
      // block are evaluated for the record at the end, and the record says they were not enforced.
      this.parser = binary;
      this.mode = 'sse-observe';
      if (rewriting) this.extraRules.push({ id: 'output-guardrails', kind: 'not-enforced', action: 'log', target: 'output', explanation: 'a binary event stream is read, not rewritten: output guardrails were evaluated for this record but not enforced on the stream' });
    } else if (type.includes('text/event-stream')) {
      this.parser = new SseParser();
      if (ok && (this.ctx.injectedUsage || rewriting)) {
        this.mode = 'sse-rewrite';
        if (rewriting) this.guard = new StreamGuard(this.ctx.outputRules, this.ctx.failMode);
      } else this.mode = 'sse-observe';
    } else if (type.includes('json')) {
      this.mode = rewriting ? 'json-hold' : 'json-observe';
      this.body = [];
    }
    return this.mode === 'sse-rewrite' || this.mode === 'json-hold';
  }

  chunk(data: Buffer): Buffer | null {
    if (this.ttfb === null) this.ttfb = performance.now();
    switch (this.mode) {
      case 'sse-observe': {
        for (const ev of (this.parser as EventParser).push(data)) this.observe(ev);
        return data;
      }
      case 'sse-rewrite':
        return this.rewrite(data);
      case 'json-observe':
        this.keep(data);
        return data;
      case 'json-hold': {
        const held = this.body;
        this.keep(data);
        if (this.body !== null) return null;
        // Too large to hold for output guardrails: let it all through unchecked from here on.
        this.mode = 'other';
        this.extraRules.push({ id: 'output-guardrails', kind: 'not-checked', action: 'log', target: 'output', explanation: `the response exceeded ${MAX_BODY_BYTES} bytes and was passed on without output checks` });
        return held === null ? data : Buffer.concat([...held, data]);
      }
      case 'other':
        return data;
      default: {
        const never: never = this.mode;
        throw new Error(`unknown tap mode ${String(never)}`);
      }
    }
  }

  end(): Buffer | null {
    if (this.done) return null;
    let rest: Buffer | null = null;
    if (this.mode === 'sse-rewrite') {
      let out = this.flushGuard();
      out += (this.parser as SseParser).rest();
      rest = out.length > 0 ? Buffer.from(out) : null;
    } else if (this.mode === 'sse-observe') {
      const parser = this.parser as EventParser;
      if (parser.rest().trim().length > 0) for (const ev of parser.push(Buffer.from('\n\n'))) this.observe(ev);
    } else if (this.mode === 'json-observe' || this.mode === 'json-hold') {
      rest = this.finishJson();
    }
    this.finish(null);
    return rest;
  }

  fail(error: Error, side: 'upstream' | 'client'): void {
    if (this.done) return;
    // Before any response byte the client is answered 502 (`Gate.upstreamFailed`): recorded as such.
    const down = side === 'upstream' && this.status === null;
    if (down) this.ctx.upstreamDown?.();
    const why = `${side === 'client' ? 'client went away' : 'upstream failed'}: ${error.message}`;
    if (!tokenizerLoaded() && this.ctx.metered && this.outputChars > 0 && this.reader.usage()?.outputTokens === undefined) {
      // A broken stream is charged from the text seen. No client waits for this record (the
      // response is already broken), so count it with the real tokenizer, loaded first if need be,
      // rather than from characters. The tap is closed meanwhile: late calls are ignored.
      this.done = true;
      void loadTokenizer().then(() => {
        this.done = false;
        this.finish(why, down);
      });
      return;
    }
    this.finish(why, down);
  }

  unchecked(reason: string): void {
    if (this.done) return;
    // Nothing read so far reached the client (the engine passes the response as upstream sent it).
    this.mode = 'other';
    this.body = null;
    this.parser = null;
    this.guard = null;
    this.extraRules.push({ id: 'output-guardrails', kind: 'not-checked', action: 'log', target: 'output', explanation: `${reason}: it was passed on without output checks` });
  }

  refuse(reason: string, sent: boolean): Respond {
    if (!this.done) {
      this.blocked = true;
      if (!sent) this.answered = 502;
      this.extraRules.push({ id: 'output-guardrails', kind: 'not-checked', action: 'block', target: 'output', explanation: `${reason}: output guardrails could not check it, so it was refused` });
      this.finish(reason);
    }
    const message = `Outpost refused the response from ${this.ctx.base.request.host}: ${reason}, so its output could not be checked.`;
    return errorAnswer(this.ctx.endpoint.adapter, 'response_refused', message, decisionHeader('block', 'response_refused', ['output-guardrails']));
  }

  private observe(ev: SseEvent): void {
    const info = this.reader.event(ev);
    if (info.text !== null) this.seen(info.text);
  }

  private seen(text: string): void {
    this.outputChars += text.length;
    if (this.output.length < MAX_OUTPUT_CHARS) this.output += text;
  }

  private keep(data: Buffer): void {
    this.bodyBytes += data.length;
    if (this.body !== null && this.bodyBytes <= MAX_BODY_BYTES) this.body.push(data);
    else this.body = null;
  }

  private rewrite(data: Buffer): Buffer | null {
    const events = (this.parser as SseParser).push(data);
    if (events.length === 0) return null;
    let out = '';
    let unchanged = true;
    for (const ev of events) {
      const info = this.reader.event(ev);
      if (info.usageOnly && this.ctx.injectedUsage) {
        unchanged = false;
        continue;
      }
      if (info.text === null || this.guard === null) {
        if (info.text !== null) this.seen(info.text);
        // Text held back goes out before any other event, so nothing overtakes it.
        const flushed = info.text === null ? this.flushGuard() : '';
        if (flushed.length > 0) unchanged = false;
        if (this.stopped) return Buffer.from(out + flushed);
        out += flushed + ev.raw;
        continue;
      }
      this.seen(info.text);
      this.held.push({ ev, text: info.text, start: this.textIn });
      this.textIn += info.text.length;
      const step = this.guard.push(info.text);
      if (step.blockedBy !== null) return Buffer.from(out + this.stop(step.blockedBy));
      const released = this.releaseHeld(step.release);
      if (released !== ev.raw) unchanged = false;
      out += released;
    }
    // An event-aligned chunk that nothing changed goes on as the very buffer received.
    if (unchanged && out.length === data.length && out === data.toString('utf8')) return data;
    return out.length > 0 ? Buffer.from(out) : null;
  }

  private flushGuard(): string {
    const guard = this.guard;
    if (guard === null) return '';
    const step = guard.flush();
    if (step.blockedBy !== null) return this.stop(step.blockedBy);
    return this.releaseHeld(step.release);
  }

  /**
   * Turns what the guard released into events: every held event whose text is now wholly released
   * unredacted goes on as its own bytes; a redacted release goes on as one event carrying the text
   * not sent yet (an event partly sent that way later carries only its rest).
   */
  private releaseHeld(release: string): string {
    const from = this.releasedTo;
    const to = this.textIn - (this.guard?.heldChars ?? 0);
    this.releasedTo = to;
    const held = this.held;
    let out = '';
    if (release === this.heldText(from, to)) {
      while (held.length > 0 && (held[0] as (typeof held)[number]).start + (held[0] as (typeof held)[number]).text.length <= to) {
        const h = held.shift() as (typeof held)[number];
        out += h.start >= this.emittedTo ? h.ev.raw : this.reader.withText(h.ev, h.text.slice(this.emittedTo - h.start));
        this.emittedTo = h.start + h.text.length;
      }
      return out;
    }
    const text = this.heldText(this.emittedTo, from) + release;
    let carrier = held[0]?.ev ?? null;
    while (held.length > 0 && (held[0] as (typeof held)[number]).start < to) {
      const h = held[0] as (typeof held)[number];
      carrier = h.ev;
      if (h.start + h.text.length > to) break;
      held.shift();
    }
    this.emittedTo = to;
    return carrier === null || text.length === 0 ? '' : this.reader.withText(carrier, text);
  }

  /** The held events' text between two stream offsets. */
  private heldText(from: number, to: number): string {
    let text = '';
    for (const h of this.held) {
      const end = h.start + h.text.length;
      if (end <= from) continue;
      if (h.start >= to) break;
      text += h.text.slice(Math.max(0, from - h.start), Math.min(h.text.length, to - h.start));
    }
    return text;
  }

  private stop(rule: CompiledGuardrail): string {
    this.stopped = true;
    this.blocked = true;
    const message = rule.message ?? `Outpost stopped this response: it contained something the rule "${rule.id}" blocks.`;
    const event = this.reader.errorEvent(message, 'guardrail_blocked');
    this.finish(null);
    return event;
  }

  private finishJson(): Buffer | null {
    const chunks = this.body;
    if (chunks === null) return null; // too large to read: passed through, usage estimated
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return this.mode === 'json-hold' ? Buffer.concat(chunks) : null;
    }
    const text = this.reader.json(parsed);
    this.seen(text);
    if (this.mode !== 'json-hold') return null;
    const outcome = evaluateGuardrails(this.ctx.outputRules, [text], 'output', this.ctx.failMode);
    this.extraRules.push(...outcome.rules);
    if (outcome.action === 'block') {
      this.blocked = true;
      const message = outcome.blockedBy?.message ?? `[Outpost blocked this response: it contained something the rule "${outcome.blockedBy?.id ?? 'guardrails'}" blocks.]`;
      this.reader.rewriteJson(parsed, () => message);
      return Buffer.from(JSON.stringify(parsed));
    }
    if (outcome.action === 'redact') {
      this.redactedOutput = true;
      this.reader.rewriteJson(parsed, (t) => evaluateGuardrails(this.ctx.outputRules, [t], 'output', this.ctx.failMode).redacted?.[0] ?? t);
      return Buffer.from(JSON.stringify(parsed));
    }
    return Buffer.concat(chunks);
  }

  /** Settles the reservations and writes the one audit record. */
  private finish(error: string | null, upstreamDown = false): void {
    if (this.done) return;
    this.done = true;
    const { governor, grant, endpoint, parsed, base } = this.ctx;
    const status = this.status;
    const failedEarly = status === null || status >= 400;
    let usage: TokenUsage | null = null;
    let estimated = false;
    if (failedEarly && this.outputChars === 0) governor.abandon(grant);
    else if (!this.ctx.metered) governor.complete(grant, endpoint.provider, null, { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 }, this.ctx.now());
    else {
      const u = this.reader.usage();
      estimated = u?.inputTokens === undefined || u.outputTokens === undefined;
      usage = {
        inputTokens: u?.inputTokens ?? countTextTokens(parsed.texts.join('\n')),
        outputTokens: u?.outputTokens ?? Math.round(countTextTokens(this.output) * (this.outputChars / Math.max(1, this.output.length))),
        cacheReadTokens: u?.cacheReadTokens ?? 0,
        cacheWriteTokens: u?.cacheWriteTokens ?? 0,
      };
    }
    const settlement = usage === null ? null : governor.complete(grant, endpoint.provider, parsed.model, usage, this.ctx.now());
    const rules = [...grant.rules, ...this.extraRules, ...(this.guard?.firedRules() ?? [])];
    if (this.mode === 'sse-observe' || this.mode === 'json-observe') {
      // Warn and log rules on output still explain themselves when nothing needed rewriting.
      const o = evaluateGuardrails(this.ctx.outputRules, [this.output], 'output', this.ctx.failMode);
      rules.push(...o.rules);
    }
    if (this.guard?.firedRules().some((r) => r.action === 'redact') === true) this.redactedOutput = true;
    const decision: Decision = upstreamDown ? 'error' : this.blocked ? 'block' : this.redactedOutput || grant.decision === 'redact' ? 'redact' : grant.decision;
    const end = performance.now();
    this.ctx.record(
      auditEntry(base, {
        decision,
        rules,
        status: upstreamDown ? 502 : (this.answered ?? status),
        error: error ?? (this.blocked ? 'response stopped by an output guardrail' : null),
        latencyMs: end - base.request.receivedAt,
        ttfbMs: this.ttfb === null ? null : this.ttfb - base.request.receivedAt,
        inputTokens: usage?.inputTokens ?? null,
        outputTokens: usage?.outputTokens ?? null,
        cachedTokens: usage === null ? null : usage.cacheReadTokens,
        tokensEstimated: estimated,
        costUsd: settlement?.costUsd ?? null,
        priceVersion: settlement?.priceVersion ?? null,
        output: this.ctx.recordOutput && this.output.length > 0 ? capText(redactForAudit(this.ctx.auditRules, [this.output])[0] ?? '') : null,
      }),
    );
  }
}
