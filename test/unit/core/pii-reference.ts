/**
 * The PII detector exactly as it was at commit 0fd4ae6 (numeric runs found by running NUMERIC_RUN over
 * the whole text), kept verbatim as the reference the PII equivalence test compares with. Test code only.
 */
/**
 * The PII detector: email, phone, credit card (Luhn), US SSN, IBAN (mod 97), IPv4. Hot path: emails
 * are found from `@` (a native `indexOf`), the numeric entities from one pass that finds runs of
 * digits and separators; only those runs are examined further.
 */
import type { PII_ENTITIES } from '../../../shared/schema/policy.js';
import { ibanValid, luhnValid } from '../../../shared/core/guardrails/checksums.js';
import { NO_FINDINGS, type Detector, type Finding } from '../../../shared/core/guardrails/types.js';

/** A PII entity name, as the policy lists them. */
type PiiEntity = (typeof PII_ENTITIES)[number];

const LABELS: Record<PiiEntity, string> = {
  email: 'an email address',
  phone: 'a phone number',
  credit_card: 'a payment card number',
  us_ssn: 'a US social security number',
  iban: 'an IBAN',
  ipv4: 'an IPv4 address',
};

/** Numeric entities, most specific first: a span claimed by one is not reported by the next. */
const NUMERIC: ReadonlyArray<{ entity: PiiEntity; re: RegExp; valid?: (s: string) => boolean }> = [
  { entity: 'us_ssn', re: /(?<![\d-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\d-])/g },
  {
    entity: 'credit_card',
    // Issuer prefixes: Visa 4, Mastercard 51-55 / 22-27, Amex 34/37, Discover 6, Diners 36/38, JCB 35.
    re: /(?<!\d)(?=[2-6])(?:\d[ -]?){12,18}\d(?!\d)/g,
    valid: (s) => luhnValid(s) && /^(?:4|5[1-5]|2[2-7]|3[4-8]|6)/.test(s),
  },
  { entity: 'ipv4', re: /(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\d.]*\d)/g },
  {
    entity: 'phone',
    // NANP with separators or parentheses, or international with a leading +.
    re: /(?<![\d+])(?:\+1[ .-]?)?(?:\(\d{3}\)[ .-]?|\d{3}[ .-])\d{3}[ .-]\d{4}(?![\d])|\+(?:[2-9]\d{0,2})[ .-]?\d{1,4}(?:[ .-]?\d{2,4}){2,4}(?!\d)/g,
  },
];

/**
 * Runs of digits and separators long enough to hold a numeric entity (7+ characters). Starting on a
 * digit (a leading `+` or `(` is taken in afterwards) lets the regex engine skip ahead to digits
 * instead of trying an optional first character at every position.
 */
const NUMERIC_RUN = /\d[\d .()-]{5,}\d/g;
/** Left boundaries are checked in code, for the same reason (a leading lookbehind runs everywhere). */
const IBAN = /[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![A-Za-z0-9])/g;

function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function isLocal(c: number): boolean {
  // [A-Za-z0-9._%+-]
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 46 || c === 95 || c === 37 || c === 43 || c === 45;
}
function isDomain(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 46 || c === 45;
}

function scanEmails(text: string, out: Finding[] | null): Finding[] | null {
  let at = text.indexOf('@');
  while (at !== -1) {
    let s = at;
    while (s > 0 && isLocal(text.charCodeAt(s - 1))) s--;
    let e = at + 1;
    while (e < text.length && isDomain(text.charCodeAt(e))) e++;
    while (e > at + 1 && text.charCodeAt(e - 1) === 46) e--; // a sentence's full stop is not the domain's
    const domain = text.slice(at + 1, e);
    const dot = domain.lastIndexOf('.');
    if (s < at && dot > 0 && /^[A-Za-z]{2,24}$/.test(domain.slice(dot + 1))) {
      (out ??= []).push({ start: s, end: e, kind: 'email', label: LABELS.email });
    }
    at = text.indexOf('@', Math.max(e, at + 1));
  }
  return out;
}

function overlaps(found: Finding[] | null, start: number, end: number): boolean {
  if (found === null) return false;
  for (const f of found) if (start < f.end && end > f.start) return true;
  return false;
}

function scanNumeric(text: string, want: ReadonlySet<PiiEntity>, out: Finding[] | null): Finding[] | null {
  NUMERIC_RUN.lastIndex = 0;
  let run: RegExpExecArray | null;
  while ((run = NUMERIC_RUN.exec(text)) !== null) {
    // Take in a leading `+` or `(` (international prefix, area code), then widen by one character
    // each side so the entity patterns' boundary checks see the context.
    let lead = run.index;
    if (lead > 0 && (text.charCodeAt(lead - 1) === 43 || text.charCodeAt(lead - 1) === 40)) lead--;
    const from = Math.max(0, lead - 1);
    const span = text.slice(from, run.index + run[0].length + 1);
    let local: Finding[] | null = null;
    for (const n of NUMERIC) {
      if (!want.has(n.entity)) continue;
      n.re.lastIndex = 0;
      let m: RegExpExecArray | null;
      while ((m = n.re.exec(span)) !== null) {
        const start = from + m.index;
        const end = start + m[0].length;
        if (overlaps(local, start, end) || (n.valid !== undefined && !n.valid(m[0]))) continue;
        (local ??= []).push({ start, end, kind: n.entity, label: LABELS[n.entity] });
      }
    }
    if (local !== null) (out ??= []).push(...local);
  }
  return out;
}

function scanIbans(text: string, out: Finding[] | null): Finding[] | null {
  IBAN.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = IBAN.exec(text)) !== null) {
    if (m.index > 0 && isAlnum(text.charCodeAt(m.index - 1))) {
      IBAN.lastIndex = m.index + 1;
      continue;
    }
    if (ibanValid(m[0])) (out ??= []).push({ start: m.index, end: m.index + m[0].length, kind: 'iban', label: LABELS.iban });
  }
  return out;
}

/** Builds the PII detector for `entities`. */
export function referencePiiDetector(entities: readonly PiiEntity[]): Detector {
  const want = new Set(entities);
  const numeric = want.has('phone') || want.has('credit_card') || want.has('us_ssn') || want.has('ipv4');
  return {
    scan(text) {
      let out: Finding[] | null = null;
      if (want.has('email')) out = scanEmails(text, out);
      if (numeric) out = scanNumeric(text, want, out);
      if (want.has('iban')) out = scanIbans(text, out);
      return out ?? NO_FINDINGS;
    },
    explain: () => `personal data: ${entities.map((e) => LABELS[e].replace(/^an? /, '')).join(', ')}`,
  };
}
