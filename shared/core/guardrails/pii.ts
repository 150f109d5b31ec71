/**
 * The PII detector: email, phone, credit card (Luhn), US SSN, IBAN (mod 97), IPv4. Hot path: emails
 * are found from `@` (a native `indexOf`), the numeric entities from one pass that finds runs of
 * digits and separators; only those runs are examined further.
 */
import type { PII_ENTITIES } from '../../schema/policy.js';
import { ibanValid, luhnValid } from './checksums.js';
import { bytesOf } from './bytes.js';
import { NO_FINDINGS, type Detector, type Finding } from './types.js';

function byteClass(member: (c: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let c = 0; c < 256; c++) t[c] = member(c) ? 1 : 0;
  return t;
}

/** A PII entity name, as the policy lists them. */
export type PiiEntity = (typeof PII_ENTITIES)[number];

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
 * Runs of digits and separators long enough to hold a numeric entity (7+ characters; a leading `+`
 * or `(` is taken in afterwards). The definition: `scanNumeric` finds exactly its matches without
 * running it (see there; the PII equivalence test runs it).
 */
export const NUMERIC_RUN = /\d[\d .()-]{5,}\d/g;
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

/** The entities in one numeric run, `text[runStart, runEnd)` (a match of `NUMERIC_RUN`). */
function numericRun(text: string, runStart: number, runEnd: number, want: ReadonlySet<PiiEntity>, out: Finding[] | null): Finding[] | null {
  // Take in a leading `+` or `(` (international prefix, area code), then widen by one character
  // each side so the entity patterns' boundary checks see the context.
  let lead = runStart;
  if (lead > 0 && (text.charCodeAt(lead - 1) === 43 || text.charCodeAt(lead - 1) === 40)) lead--;
  const from = Math.max(0, lead - 1);
  const span = text.slice(from, runEnd + 1);
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
  return out;
}

/** `[\d .()-]`, the characters of a numeric run, by byte. */
const RUN_CHAR = byteClass((c) => (c >= 48 && c <= 57) || c === 32 || c === 46 || c === 40 || c === 41 || c === 45);
/** The shortest match of `NUMERIC_RUN`. */
const MIN_RUN = 7;

/**
 * The matches of `NUMERIC_RUN`, without running it over the whole text. Every match lies inside a
 * maximal stretch of run characters, and is exactly that stretch's first digit to its last digit
 * when those are at least 6 apart (greedy `{5,}` backs off to the last digit; a later start is
 * stricter): so at most one match per stretch. A stretch long enough to hold a match (7+) contains a
 * position that is a multiple of 7, so only every 7th byte is looked at until one is a run
 * character; the stretch around it is then measured. Bytes (latin1: a code unit's low byte) can
 * only over-approximate the class, never miss a member, so each candidate stretch is re-read with
 * `charCodeAt`, which splits it where a folded non-ASCII character stood.
 */
function scanNumeric(text: string, want: ReadonlySet<PiiEntity>, out: Finding[] | null): Finding[] | null {
  const n = text.length;
  if (n < MIN_RUN) return out;
  const bytes = bytesOf(text);
  let k = MIN_RUN - 1;
  while (k < n) {
    if (RUN_CHAR[bytes[k] as number] === 0) {
      k += MIN_RUN;
      continue;
    }
    let a = k;
    while (a > 0 && RUN_CHAR[bytes[a - 1] as number] === 1) a--;
    let b = k + 1;
    while (b < n && RUN_CHAR[bytes[b] as number] === 1) b++;
    if (b - a >= MIN_RUN) {
      // Re-read with the real characters: stretches of run characters within [a, b).
      let first = -1;
      let last = -1;
      for (let i = a; i <= b; i++) {
        const c = i < b ? text.charCodeAt(i) : -1;
        if (c >= 48 && c <= 57) {
          if (first < 0) first = i;
          last = i;
        } else if (!(c === 32 || c === 46 || c === 40 || c === 41 || c === 45)) {
          if (first >= 0 && last - first >= MIN_RUN - 1) out = numericRun(text, first, last + 1, want, out);
          first = -1;
          last = -1;
        }
      }
    }
    k = b + MIN_RUN;
  }
  return out;
}

/** `[A-Z0-9 ]`, the characters of an IBAN match, by byte. */
const IBAN_CHAR = byteClass((c) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || c === 32);
/** The shortest IBAN match: two letters, two digits, two groups of four. */
const MIN_IBAN = 12;

/**
 * IBAN matches. Every match lies inside a stretch of `[A-Z0-9 ]` at least 12 long (the lookahead
 * reads the one character after it), so, as for numeric runs, only every 12th byte is looked at
 * until one is such a character; the regex then runs on that stretch alone (plus the character after
 * it), on the text itself, as it would have run there over the whole text.
 */
function scanIbans(text: string, out: Finding[] | null): Finding[] | null {
  const n = text.length;
  if (n < MIN_IBAN) return out;
  const bytes = bytesOf(text);
  let k = MIN_IBAN - 1;
  while (k < n) {
    if (IBAN_CHAR[bytes[k] as number] === 0) {
      k += MIN_IBAN;
      continue;
    }
    let a = k;
    while (a > 0 && IBAN_CHAR[bytes[a - 1] as number] === 1) a--;
    let b = k + 1;
    while (b < n && IBAN_CHAR[bytes[b] as number] === 1) b++;
    if (b - a >= MIN_IBAN) out = ibansIn(text, a, text.slice(a, b + 1), out);
    k = b + MIN_IBAN;
  }
  return out;
}

/** The IBAN regex over `span`, which is the text from `offset`; boundaries checked on the text. */
function ibansIn(text: string, offset: number, span: string, out: Finding[] | null): Finding[] | null {
  IBAN.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = IBAN.exec(span)) !== null) {
    const start = offset + m.index;
    if (start > 0 && isAlnum(text.charCodeAt(start - 1))) {
      IBAN.lastIndex = m.index + 1;
      continue;
    }
    if (ibanValid(m[0])) (out ??= []).push({ start, end: start + m[0].length, kind: 'iban', label: LABELS.iban });
  }
  return out;
}

/** Builds the PII detector for `entities`. */
export function piiDetector(entities: readonly PiiEntity[]): Detector {
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
