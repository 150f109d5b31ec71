/**
 * Output guardrails on a stream of text deltas. Redaction must work across chunk boundaries: a
 * phone number may arrive as "+1 415" then "555 0100", a key as "ghp_12" then "34…". The guard
 * therefore holds back only what could still grow into a finding: the last word (tokens, emails and
 * keys contain no whitespace), any open run of digits and separators before it (phone, card and
 * account numbers contain spaces), and any finding that reaches the end. Everything before that is
 * released at once, redacted, so a stream is delayed by about one word. A blocking finding stops
 * the stream.
 */
import type { FiredRule } from '../../schema/audit.js';
import type { CompiledGuardrail } from './engine.js';
import { redact } from './redact.js';
import type { Finding } from './types.js';
import type { FailMode } from '../../schema/policy.js';

/** What the guard lets through after a push. */
export interface GuardStep {
  /** Text that may go to the client now (possibly empty), already redacted. */
  readonly release: string;
  /** The blocking rule, when the stream must stop. */
  readonly blockedBy: CompiledGuardrail | null;
}

/** How far back an open run of digits and separators is held (a formatted IBAN is 42 characters). */
export const DEFAULT_HOLD_CHARS = 96;
const MAX_HOLD_CHARS = 16_384;

/** Guards one output stream. */
export class StreamGuard {
  private pending = '';
  private readonly fired = new Map<string, FiredRule>();

  constructor(
    private readonly rules: readonly CompiledGuardrail[],
    private readonly failMode: FailMode,
    private readonly holdChars = DEFAULT_HOLD_CHARS,
  ) {}

  /** Rules that fired so far (one entry per rule). */
  firedRules(): FiredRule[] {
    return [...this.fired.values()];
  }

  /** Characters pushed but not released yet (the caller maps releases back onto its events). */
  get heldChars(): number {
    return this.pending.length;
  }

  /** Adds a text delta. */
  push(text: string): GuardStep {
    this.pending += text;
    return this.step(false);
  }

  /** The stream ended: releases everything held. */
  flush(): GuardStep {
    return this.step(true);
  }

  private step(final: boolean): GuardStep {
    const text = this.pending;
    let cut = final ? text.length : this.safeCut(text);
    if (text.length - cut > MAX_HOLD_CHARS) cut = text.length - this.holdChars;
    const toRedact: Finding[] = [];
    for (const rule of this.rules) {
      let found: readonly Finding[];
      try {
        found = rule.detector.scan(text);
      } catch (err) {
        const closed = this.failMode === 'closed';
        this.note(rule, 'detector-error', closed ? 'block' : 'log', `the ${rule.type} detector failed (${(err as Error).message}); fail mode ${this.failMode}`);
        if (closed) return { release: '', blockedBy: rule };
        continue;
      }
      if (found.length === 0) continue;
      if (rule.action === 'block') {
        this.note(rule, found.map((f) => f.kind).join(','), 'block', `found ${found[0]?.label ?? 'a match'} in the response`);
        return { release: '', blockedBy: rule };
      }
      for (const f of found) {
        if (rule.action === 'redact') {
          toRedact.push(f);
          // Never release half a finding: hold it whole until it is complete.
          if (!final && f.start < cut && f.end > cut && text.length <= MAX_HOLD_CHARS) cut = f.start;
        }
      }
      this.note(rule, [...new Set(found.map((f) => f.kind))].join(','), rule.action, `found ${found[0]?.label ?? 'a match'} in the response`);
    }
    const released = text.slice(0, cut);
    this.pending = text.slice(cut);
    const inside = toRedact.filter((f) => f.end <= cut);
    return { release: inside.length > 0 ? redact(released, inside) : released, blockedBy: null };
  }

  /** Where text stops being safe to release: the start of what could still grow into a finding. */
  private safeCut(text: string): number {
    let t = text.length;
    while (t > 0 && !isSpace(text.charCodeAt(t - 1))) t--;
    // An open numeric run at the very end ("call (415) 555-", "GB82 WEST 12") may continue.
    const floor = Math.max(0, text.length - this.holdChars);
    let r = text.length;
    let digits = false;
    while (r > floor && isRunChar(text.charCodeAt(r - 1))) {
      r--;
      if (isDigit(text.charCodeAt(r))) digits = true;
    }
    return digits ? Math.min(r, t) : t;
  }

  private note(rule: CompiledGuardrail, kind: string, action: FiredRule['action'], explanation: string): void {
    if (!this.fired.has(rule.id)) this.fired.set(rule.id, { id: rule.id, kind, action, target: 'output', explanation });
  }
}

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
/** Characters of phone, card, SSN, IBAN and IPv4 runs: digits, upper-case letters, separators. */
function isRunChar(c: number): boolean {
  return isDigit(c) || (c >= 65 && c <= 90) || c === 32 || c === 46 || c === 45 || c === 40 || c === 41 || c === 43;
}
