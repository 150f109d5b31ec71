/**
 * What of a request reaches the audit log: prompts and outputs as policy `audit.recordPrompts` says,
 * and request headers by allow-list. Pure helpers: the gate calls them when it builds an entry, and
 * the audit log applies `allowListHeaders` again before writing (defence in depth).
 *
 * Modes (policy `audit.recordPrompts`):
 * - `none`: no text at all (null).
 * - `redacted` (the default): guardrail findings replaced, and a baseline scrub of well-known secret
 *   and PII shapes on top, so a policy with no guardrail still never stores an API key or an email.
 * - `full`: the text as sent, except guardrail findings, which are redacted in every mode.
 */

/** A guardrail finding: a span of the text (UTF-16 offsets, `end` exclusive) and what it is. */
export interface AuditFinding {
  readonly start: number;
  readonly end: number;
  /** What was found, in words safe to store: `secret:openai`, `pii:email`, `regex:ticket-id`. */
  readonly kind: string;
}

/** Policy `audit.recordPrompts`. */
export type PromptMode = 'none' | 'redacted' | 'full';

/** The marker that replaces a finding: says what was there, never the thing. */
export function redactionMarker(kind: string): string {
  return `[REDACTED:${kind}]`;
}

/**
 * Baseline shapes scrubbed in `redacted` mode. Deliberately conservative (few false positives):
 * provider key prefixes, cloud and VCS tokens, bearer tokens, JWTs, private keys, emails, card-like
 * digit runs and US SSNs. The guardrail detectors in shared/core remain the real policy.
 */
const BASELINE: ReadonlyArray<readonly [kind: string, pattern: RegExp]> = [
  ['secret:private-key', /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g],
  ['secret:api-key', /\b(?:sk|rk|pk)-(?:[A-Za-z0-9]+-)*[A-Za-z0-9_-]{16,}/g],
  ['secret:aws', /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g],
  ['secret:github', /\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})/g],
  ['secret:slack', /\bxox[abposr]-[A-Za-z0-9-]{10,}/g],
  ['secret:google', /\bAIza[0-9A-Za-z_-]{35}\b/g],
  ['secret:jwt', /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g],
  ['secret:bearer', /\b[Bb]earer\s+[A-Za-z0-9._~+/=-]{16,}/g],
  ['pii:email', /\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b/g],
  ['pii:us_ssn', /\b\d{3}-\d{2}-\d{4}\b/g],
  ['pii:credit_card', /\b(?:\d[ -]?){12,18}\d\b/g],
];

/** Replaces each span (overlaps merged) with its marker; spans out of range are clamped. */
function redactSpans(text: string, spans: readonly AuditFinding[]): string {
  if (spans.length === 0) return text;
  const sorted = [...spans]
    .map((s) => ({ start: Math.max(0, Math.min(s.start, text.length)), end: Math.max(0, Math.min(s.end, text.length)), kind: s.kind }))
    .filter((s) => s.end > s.start)
    .sort((a, b) => a.start - b.start || b.end - a.end);
  let out = '';
  let at = 0;
  for (const s of sorted) {
    if (s.end <= at) continue; // inside a span already replaced
    out += text.slice(at, Math.max(at, s.start));
    if (s.start >= at) out += redactionMarker(s.kind);
    at = s.end;
  }
  return out + text.slice(at);
}

/** The spans of `text` that the baseline scrub replaces. */
export function baselineFindings(text: string): AuditFinding[] {
  const found: AuditFinding[] = [];
  for (const [kind, pattern] of BASELINE) {
    pattern.lastIndex = 0;
    for (const m of text.matchAll(pattern)) found.push({ start: m.index, end: m.index + m[0].length, kind });
  }
  return found;
}

/**
 * The text to store for a prompt or an output under `mode`. `findings` are the guardrail findings on
 * this very text; they are redacted in every mode. Null text stays null.
 */
export function applyPromptPolicy(mode: PromptMode, text: string | null, findings: readonly AuditFinding[] = []): string | null {
  if (text === null) return null;
  switch (mode) {
    case 'none':
      return null;
    case 'full':
      return redactSpans(text, findings);
    case 'redacted':
      return redactSpans(text, [...findings, ...baselineFindings(text)]);
    default: {
      const never: never = mode;
      throw new Error(`unknown prompt mode ${String(never)}`);
    }
  }
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
