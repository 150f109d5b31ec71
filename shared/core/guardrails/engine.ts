/**
 * Runs a policy's guardrails over texts (a prompt's parts, or a response's text) and turns the
 * detectors' findings into one outcome: the strongest action (block > redact > warn > log), the
 * rules that fired with what kind of thing each found, and the redacted texts. A detector that
 * throws does not abort the others: its error becomes part of the outcome, and the policy's fail
 * mode says whether it blocks (closed) or is only recorded (open).
 */
import type { FiredRule } from '../../schema/audit.js';
import type { FailMode, Guardrail, GuardrailAction } from '../../schema/policy.js';
import { redact } from './redact.js';
import { buildDetector, DETECTORS, type DetectorFactories } from './registry.js';
import { cachedDetector } from './scan-cache.js';
import type { Detector, Finding } from './types.js';

/** Where a guardrail runs: the prompt, the response, or the request's headers and URL. */
export type GuardrailTarget = 'input' | 'output' | 'request';

/** A policy guardrail with its detector built. */
export interface CompiledGuardrail {
  readonly id: string;
  readonly type: Guardrail['type'];
  readonly action: GuardrailAction;
  readonly message: string | null;
  readonly detector: Detector;
}

/** The guardrails of one policy version, split by target. */
export interface CompiledGuardrails {
  readonly input: readonly CompiledGuardrail[];
  readonly output: readonly CompiledGuardrail[];
  /** The input `secrets` rules, run over the request's headers and URL query too (credentials only: no PII or custom patterns there). */
  readonly request: readonly CompiledGuardrail[];
  readonly failMode: FailMode;
}

/** What the guardrails decided about some texts. */
export interface GuardrailOutcome {
  /** The strongest action that fired, or null when nothing fired. */
  readonly action: GuardrailAction | null;
  readonly rules: readonly FiredRule[];
  /** The rule that blocked (its message goes to the user), or null. */
  readonly blockedBy: CompiledGuardrail | null;
  /** Per text: its redacted form, or null when unchanged. Null when nothing was redacted. */
  readonly redacted: ReadonlyArray<string | null> | null;
}

const RANK: Record<GuardrailAction, number> = { log: 1, warn: 2, redact: 3, block: 4 };

/** The outcome when no rule fired (shared, so the common case allocates nothing). */
export const CLEAN: GuardrailOutcome = Object.freeze({ action: null, rules: [], blockedBy: null, redacted: null });

/** Compiles the policy's guardrails once per policy version, their detectors from `detectors`. */
export function compileGuardrails(rules: readonly Guardrail[], failMode: FailMode, detectors: DetectorFactories = DETECTORS): CompiledGuardrails {
  const input: CompiledGuardrail[] = [];
  const output: CompiledGuardrail[] = [];
  for (const rule of rules) {
    const c: CompiledGuardrail = { id: rule.id, type: rule.type, action: rule.action, message: rule.message ?? null, detector: cachedDetector(buildDetector(rule, detectors)) };
    if (rule.on.includes('input')) input.push(c);
    if (rule.on.includes('output')) output.push(c);
  }
  return { input, output, request: input.filter((r) => r.type === 'secrets'), failMode };
}

function describe(findings: readonly Finding[]): { kind: string; what: string } {
  const counts = new Map<string, { label: string; n: number }>();
  for (const f of findings) {
    const c = counts.get(f.kind);
    if (c) c.n++;
    else counts.set(f.kind, { label: f.label, n: 1 });
  }
  const kinds = [...counts.keys()].join(',');
  const what = [...counts.values()].map((c) => (c.n > 1 ? `${c.label} (×${c.n})` : c.label)).join(', ');
  return { kind: kinds, what };
}

const WHERE: Record<GuardrailTarget, string> = { input: 'the prompt', output: 'the response', request: "the request's headers or URL" };

/**
 * Runs `rules` over `texts`. Hot path: with nothing found, this allocates nothing and returns
 * `CLEAN`.
 */
export function evaluateGuardrails(rules: readonly CompiledGuardrail[], texts: readonly string[], target: GuardrailTarget, failMode: FailMode): GuardrailOutcome {
  let fired: FiredRule[] | null = null;
  let action: GuardrailAction | null = null;
  let blockedBy: CompiledGuardrail | null = null;
  // Findings to redact, per text, across every redact rule (positions refer to the original text).
  let toRedact: Array<Finding[] | null> | null = null;
  for (const rule of rules) {
    let all: Finding[] | null = null;
    try {
      for (let i = 0; i < texts.length; i++) {
        const found = rule.detector.scan(texts[i] as string);
        if (found.length === 0) continue;
        (all ??= []).push(...found);
        if (rule.action === 'redact') {
          toRedact ??= new Array<Finding[] | null>(texts.length).fill(null);
          (toRedact[i] ??= []).push(...found);
        }
      }
    } catch (err) {
      const closed = failMode === 'closed';
      (fired ??= []).push({
        id: rule.id,
        kind: 'detector-error',
        action: closed ? 'block' : 'log',
        target,
        explanation: `the ${rule.type} detector failed (${(err as Error).message}); fail mode ${failMode}: ${closed ? 'blocked' : 'let through unchecked'}`,
      });
      if (closed) {
        action = 'block';
        blockedBy ??= rule;
      } else if (action === null) action = 'log';
      continue;
    }
    if (all === null) continue;
    const { kind, what } = describe(all);
    (fired ??= []).push({ id: rule.id, kind, action: rule.action, target, explanation: `found ${what} in ${WHERE[target]}` });
    if (action === null || RANK[rule.action] > RANK[action]) action = rule.action;
    if (rule.action === 'block') blockedBy ??= rule;
  }
  if (fired === null) return CLEAN;
  const redacted = toRedact === null ? null : toRedact.map((f, i) => (f === null ? null : redact(texts[i] as string, f)));
  return { action, rules: fired, blockedBy, redacted };
}

/**
 * `texts` with everything any of `rules` finds redacted, whatever the rules' actions: the form a
 * prompt or output takes in the audit record (a `warn` or `log` finding is still never stored).
 * Rules whose detector throws are skipped here (the decision already recorded the error).
 */
export function redactForAudit(rules: readonly CompiledGuardrail[], texts: readonly string[]): string[] {
  return texts.map((text) => {
    const all: Finding[] = [];
    for (const rule of rules) {
      try {
        all.push(...rule.detector.scan(text));
      } catch {
        // recorded by the decision that ran the same detector
      }
    }
    return redact(text, all);
  });
}
