/**
 * What of a request reaches the audit log: prompts and outputs as policy `audit.recordPrompts` says,
 * and request headers by allow-list. The gate builds entries with these; the audit log applies
 * `allowListHeaders` again before writing (defence in depth).
 *
 * Modes (policy `audit.recordPrompts`), all through the core's detectors and redactor
 * (shared/core/guardrails):
 * - `none`: no text at all (null).
 * - `full`: the text as sent, except the policy's guardrail findings (redacted whatever the rule's
 *   action: a `warn` or `log` finding is still never stored).
 * - `redacted` (the default): the policy's guardrail findings plus everything the built-in secrets
 *   and PII detectors (every entity) find, so a policy with no guardrail still never stores an API
 *   key or an email.
 */
import { compileGuardrails, redactForAudit, type CompiledGuardrail } from '../core/guardrails/engine.js';
import { PII_ENTITIES, type Policy } from '../schema/policy.js';

/** Policy `audit.recordPrompts`. */
export type PromptMode = Policy['audit']['recordPrompts'];

let builtIn: readonly CompiledGuardrail[] | null = null;

/**
 * The built-in secrets and PII (every entity) detectors that `redacted` mode adds to the policy's
 * own rules. Compiled once per process, so their scan caches outlive policy versions.
 */
export function builtInAuditRules(): readonly CompiledGuardrail[] {
  builtIn ??= compileGuardrails(
    [
      { id: 'audit:secrets', type: 'secrets', action: 'redact', on: ['input', 'output'] },
      { id: 'audit:pii', type: 'pii', entities: [...PII_ENTITIES], action: 'redact', on: ['input', 'output'] },
    ],
    'open',
  ).input;
  return builtIn;
}

/**
 * The rules whose findings are redacted from recorded text under `mode`, given every guardrail of
 * the policy (input and output). Compute once per policy version.
 */
export function auditRedactionRules(mode: PromptMode, policyRules: readonly CompiledGuardrail[]): readonly CompiledGuardrail[] {
  const own = [...new Set(policyRules)];
  switch (mode) {
    case 'none':
      return [];
    case 'full':
      return own;
    case 'redacted': {
      // A policy secrets rule already runs the one shared secrets table over every recorded text.
      const hasSecrets = own.some((r) => r.type === 'secrets');
      return [...own, ...builtInAuditRules().filter((r) => !(hasSecrets && r.type === 'secrets'))];
    }
    default: {
      const never: never = mode;
      throw new Error(`unknown prompt mode ${String(never)}`);
    }
  }
}

/** The text to store for a prompt or an output under `mode`, redacted by `rules` (see above). */
export function recordedText(mode: PromptMode, rules: readonly CompiledGuardrail[], text: string | null): string | null {
  if (mode === 'none' || text === null) return null;
  return redactForAudit(rules, [text])[0] ?? null;
}

/**
 * Request headers worth keeping: they name the client and the API version, never a credential.
 * Everything else (Authorization, cookies, `x-api-key`, `api-key`, `x-goog-api-key`, …) is dropped.
 */
const HEADER_ALLOW = new Set([
  'user-agent',
  'content-type',
  'accept',
  'anthropic-version',
  'anthropic-beta',
  'openai-beta',
  'x-stainless-lang',
  'x-stainless-package-version',
  'x-stainless-os',
  'x-stainless-arch',
  'x-stainless-runtime',
  'x-stainless-runtime-version',
  'x-stainless-retry-count',
  'x-goog-api-client',
]);

/** Longest header value kept: enough for any User-Agent, too short to smuggle a document. */
const MAX_HEADER_VALUE = 256;

/** A header bag as node:http gives it, or a plain string record. */
export type HeaderBag = Readonly<Record<string, string | readonly string[] | number | undefined>>;

/** The allow-listed headers, lower-cased names, multiple values joined with ", ", values capped. */
export function allowListHeaders(headers: HeaderBag): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(headers)) {
    const lower = name.toLowerCase();
    if (!HEADER_ALLOW.has(lower)) continue;
    const value = headers[name];
    if (value === undefined) continue;
    const text = typeof value === 'string' ? value : typeof value === 'number' ? String(value) : value.join(', ');
    out[lower] = text.length > MAX_HEADER_VALUE ? text.slice(0, MAX_HEADER_VALUE) : text;
  }
  return out;
}

/**
 * The allow-listed headers as a record keeps them: a credential the built-in secrets detector finds
 * in one (a key pasted into a user agent, which the gate refuses) is redacted, whatever the policy.
 */
export function recordedHeaders(headers: HeaderBag): Record<string, string> {
  const out = allowListHeaders(headers);
  const secrets = builtInAuditRules().filter((r) => r.type === 'secrets');
  for (const name in out) out[name] = redactForAudit(secrets, [out[name] as string])[0] as string;
  return out;
}
