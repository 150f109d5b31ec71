/**
 * The generic credential assignment: a secret-like name (…key…, …secret…, …token…, …password…,
 * …credential…, …auth…) given a value that looks random, in the forms people paste: `NAME=value`
 * (env files, shells, INI/TOML), `NAME: value` (YAML, headers), `"name": "value"` (JSON),
 * `name := value`, `name => value`, optionally with `Bearer`/`Basic`/`Token` before the value.
 * It catches what the specific formats miss: a key in a format no rule knows, or a known one with
 * a character outside its canonical alphabet (`AWS_ACCESS_KEY_ID=AKIA…` with a typo, a 42-character
 * `aws_secret_access_key`).
 *
 * The name alone says little (code is full of `key =`, `token:`): the value decides. It must look
 * random, not like code or words: letters with digits (or a password's punctuation), enough entropy, not a placeholder or a
 * reference (`${VAR}`, `$VAR`, `process.env.X` stop at their punctuation or are refused), and not
 * made of word-like pieces (identifiers such as `asn1Schema.AsnParser.parse` or `secret-2-levels`
 * are mostly pronounceable segments; a random string's segments are short or unpronounceable).
 * Tuned on source and docs (test/unit/core/credential-assignment.test.ts has the near misses; the
 * core bench measures false positives on node_modules' code and prose).
 */
import { shannonEntropy } from './entropy.js';
import type { SecretRule } from './secret-rule.js';

/** Shortest value considered. */
const MIN_VALUE = 12;

/** Values that stand for a secret rather than being one. */
const PLACEHOLDER = /^(?:x{3,}|\*{3,}|\.{3,}|your|my[-_]?|example|placeholder|changeme|change[-_]me|redacted|dummy|sample|fake|foo|bar|none|null|undefined|insert|replace|enter|todo|tbd)/i;

/** Capitals and digits in pieces joined by `_` or `-`: a constant's name, not a secret. */
const CONSTANT = /^[A-Z0-9]+(?:[_-][A-Z0-9]+)+$/;

/** Bits per character a value needs (a 16-character random base62 string has about 3.8). */
const MIN_ENTROPY = 3.2;
/**
 * Share of letters in word-like pieces from which a value reads as words or code. Tuned on
 * node_modules' code and docs: 0.6, or counting 3-letter pieces out, finds 2 to 5 times more false
 * positives there for a few points of recall on 16 to 20 random characters.
 */
const MAX_WORDINESS = 0.5;

/** Pieces of a value: lowercase runs with an optional capital, and capital runs (camelCase and CONSTANT_CASE split). */
const SEGMENT = /[A-Z]?[a-z]+|[A-Z]+(?![a-z])/g;

function isVowel(c: string): boolean {
  return 'aeiouyAEIOUY'.includes(c);
}

/** A piece that reads like a word: three letters or more, some vowels, no long consonant cluster. */
function wordLike(s: string): boolean {
  if (s.length < 3) return false;
  let vowels = 0;
  let cluster = 0;
  for (const c of s) {
    if (isVowel(c)) {
      vowels++;
      cluster = 0;
    } else if (++cluster > 3) return false;
  }
  return vowels / s.length >= 0.25;
}

function isAlnumAt(v: string, i: number): boolean {
  const c = v.charCodeAt(i);
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/**
 * Share of the value's characters in word-like pieces: near 1 for identifiers and prose, low for
 * random strings. A capitals-only piece counts as a word only between separators (`MY_SECRET`), not
 * against digits or lower case (`AKIATEG6ARKA4Ta…`: random capitals often read like a word).
 */
export function wordiness(v: string): number {
  let inWords = 0;
  let letters = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i) | 0x20;
    if (c >= 97 && c <= 122) letters++;
  }
  for (const m of v.matchAll(SEGMENT)) {
    const w = m[0];
    if (!wordLike(w)) continue;
    if (w.toUpperCase() === w && (isAlnumAt(v, m.index - 1) || isAlnumAt(v, m.index + w.length))) continue;
    inWords += w.length;
  }
  return letters === 0 ? 0 : inWords / letters;
}

/** The value of an assignment match, without quotes and an auth scheme. */
function assignedValue(match: string): string {
  const i = match.search(/[:=]/);
  return match
    .slice(i + 1)
    .replace(/^[\s"'`=>]+/, '')
    .replace(/^(?:bearer|basic|token)\s+/i, '');
}

/** True when `v` looks like a credential rather than code, words, a placeholder or a reference. */
export function looksLikeCredential(v: string): boolean {
  if (v.length < MIN_VALUE || PLACEHOLDER.test(v) || v.startsWith('$')) return false;
  let letters = 0;
  let digits = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
    else if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) letters++;
  }
  // A random value has digits, or (a password) punctuation no identifier has.
  if (letters === 0 || (digits === 0 && !/[!@#$%^&*~+=]/.test(v))) return false;
  // Hex (digests, API keys of many services) and capitals with digits and no separator (key IDs:
  // AWS, many APIs; a CONSTANT_CASE identifier has underscores): random by construction once long enough.
  if (/^[0-9a-fA-F]+$/.test(v) || /^[A-Z0-9]+$/.test(v)) return v.length >= 16 && shannonEntropy(v) >= 3;
  // CONSTANT_CASE and KEBAB-CASE names (`CL100K_TOKEN_SPLIT_REGEX`, `AWS4-HMAC-SHA256`).
  if (CONSTANT.test(v)) return false;
  return shannonEntropy(v) >= MIN_ENTROPY && wordiness(v) < MAX_WORDINESS;
}

/** The generic credential assignment rule (the last of `SECRET_RULES`: every specific format wins over it). */
export const CREDENTIAL_ASSIGNMENT_RULE: SecretRule = {
  kind: 'credential-assignment',
  label: 'a credential assigned to a secret-like name',
  anchors: ['key', 'secret', 'token', 'pass', 'pwd', 'credential', 'auth'],
  // The match starts at the name's first keyword (the lookbehind refuses a later one, so
  // `AWS_SECRET_ACCESS_KEY=…` is one finding, not one per keyword); the rest of the name before it
  // is taken in by `extendLeft`.
  pattern: `(?<!(?:key|secret|token|pass|pwd|credential|auth)[A-Za-z0-9_.-]{0,40})(?:key|secret|token|pass(?:w(?:or)?d|phrase)?|pwd|credential|auth)[A-Za-z0-9_.-]{0,40}["'\`]?\\]?\\s{0,4}(?::=|=>|[:=])(?!=)\\s{0,4}["'\`]?(?:(?:bearer|basic|token)\\s+)?[A-Za-z0-9_+/=.!@#$%^&*~-]{${MIN_VALUE},256}`,
  caseInsensitive: true,
  validate: (match) => looksLikeCredential(assignedValue(match)),
  extendLeft: /[A-Za-z0-9_-]/,
};
