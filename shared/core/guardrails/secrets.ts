/**
 * The secrets detector. Running 56 patterns over every prompt would cost 56 passes, and a regex
 * alternation of all anchors is slow too (the engine tries every alternative at every position), so
 * the scan is one pass in plain code over a trigram table: each position's three characters, hashed,
 * index the anchors (`ghp_`, `AKIA`, `sk-`, `-----BEGIN`…) that start with them. Trigrams, not
 * bigrams: keyword anchors (`key`, `token`, `redis`) start with the commonest English bigrams, and
 * every false candidate costs a string compare. Only where an anchor really starts do the rules that
 * own it run, sticky, starting at most `lead` characters before it. Hot path: the text is copied as
 * bytes into a reused buffer (native, a fraction of a microsecond for 4 KB), then each byte costs one
 * shift, one xor and one table lookup (a rolling hash); nothing is allocated. Every rule has anchors
 * (`compileAnchors` refuses one shorter than 3 characters), so no rule runs outside them; the
 * equivalence test (`test/unit/core/secrets-equivalence.test.ts`) compares this scan with the
 * previous one and with every rule's regex run over the whole text.
 */
import { bytesOf } from './bytes.js';
import { NO_FINDINGS, type Detector, type Finding } from './types.js';
import { SECRET_RULES, type SecretRule } from './secret-rules.js';

interface CompiledRule {
  readonly rule: SecretRule;
  readonly re: RegExp;
  readonly lead: number;
  /**
   * The pattern opens with a lookbehind that refuses a letter or digit before the match: a start
   * right after one cannot match, and is skipped without running the regex (exactly what the
   * lookbehind would decide). Saves most of the tries of a rule with a `lead`.
   */
  readonly wordStart: boolean;
}

function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

interface Anchor {
  /** Lower-cased when `folded`. */
  readonly text: string;
  readonly folded: boolean;
  readonly rules: readonly CompiledRule[];
}

/**
 * Table size: 2^15 slots (64 KB). The hash of three 7-bit characters is a rolling one, so the scan
 * updates it with one shift and one xor per character: `(h << 5) ^ c`, masked to 15 bits, keeps the
 * last character whole, the one before whole, and the low 5 bits of the first (the character before
 * that is shifted out entirely, so a slot depends on the three characters only). Collisions (`k`,
 * `K` and `+` share their low 5 bits) only cost a compare.
 */
const SLOTS = 1 << 15;
const MASK = SLOTS - 1;
function slot(c0: number, c1: number, c2: number): number {
  return ((c0 << 10) ^ (c1 << 5) ^ c2) & MASK;
}

/** An anchor as a bucket lists it: `offset` is where the trigram sits inside the anchor. */
interface Entry {
  readonly anchor: Anchor;
  readonly offset: number;
}

interface AnchorTable {
  /** slot(three chars) → bucket number + 1; ASCII only (every anchor is ASCII). */
  readonly table: Uint16Array;
  /** Entries per bucket, longest anchor first. */
  readonly buckets: readonly (readonly Entry[])[];
}

function variants(c: string, folded: boolean): number[] {
  if (!folded) return [c.charCodeAt(0)];
  return [...new Set([c.toLowerCase().charCodeAt(0), c.toUpperCase().charCodeAt(0)])];
}

function compileAnchors(rules: readonly SecretRule[]): AnchorTable {
  const byAnchor = new Map<string, { folded: boolean; text: string; rules: CompiledRule[] }>();
  for (const rule of rules) {
    const folded = rule.caseInsensitive === true;
    // Sticky: a rule is tried only at the few start positions its anchor allows, never scanning
    // ahead (a forward scan from every anchor would make a long text quadratic).
    const wordStart = rule.pattern.startsWith('(?<![A-Za-z0-9');
    const compiled: CompiledRule = { rule, re: new RegExp(rule.pattern, folded ? 'yi' : 'y'), lead: rule.lead ?? 0, wordStart };
    for (const a of rule.anchors) {
      const text = folded ? a.toLowerCase() : a;
      const key = `${folded ? 'i' : 'x'}${text}`;
      const entry = byAnchor.get(key) ?? { folded, text, rules: [] };
      entry.rules.push(compiled);
      byAnchor.set(key, entry);
    }
  }
  const table = new Uint16Array(SLOTS);
  const buckets: Entry[][] = [];
  const add = (key: number, entry: Entry): void => {
    let b = table[key] as number;
    if (b === 0) {
      buckets.push([]);
      b = buckets.length;
      table[key] = b;
    }
    const bucket = buckets[b - 1] as Entry[];
    if (!bucket.some((e) => e.anchor === entry.anchor && e.offset === entry.offset)) bucket.push(entry);
  };
  for (const anchor of byAnchor.values()) {
    const a = anchor.text;
    if (a.length < 3) throw new Error(`secret anchor "${a}" is shorter than 3 characters`);
    const at = (k: number): number[] => variants(a.charAt(k), anchor.folded);
    for (const c0 of at(0)) for (const c1 of at(1)) for (const c2 of at(2)) add(slot(c0, c1, c2), { anchor, offset: 0 });
  }
  for (const b of buckets) b.sort((x, y) => y.anchor.text.length - x.anchor.text.length);
  return { table, buckets };
}

function startsAt(text: string, i: number, a: Anchor): boolean {
  const s = a.text;
  if (i + s.length > text.length) return false;
  if (!a.folded) return text.startsWith(s, i);
  for (let k = 0; k < s.length; k++) {
    let c = text.charCodeAt(i + k);
    if (c >= 65 && c <= 90) c |= 0x20;
    if (c !== s.charCodeAt(k)) return false;
  }
  return true;
}

/** The rule's match starting within `lead` characters before the anchor and covering it, or null. */
function matchAround(c: CompiledRule, text: string, pos: number): RegExpExecArray | null {
  for (let start = Math.max(0, pos - c.lead); start <= pos; start++) {
    if (c.wordStart && start > 0 && isAlnum(text.charCodeAt(start - 1))) continue;
    c.re.lastIndex = start;
    const m = c.re.exec(text);
    if (m === null || m.index + m[0].length <= pos) continue;
    if (c.rule.validate !== undefined && !c.rule.validate(m[0])) continue;
    return m;
  }
  return null;
}

interface Hit {
  readonly finding: Finding;
  /** Found by a case-insensitive keyword rule (an assignment): a specific format inside it is still reported. */
  readonly folded: boolean;
}

/** Tries the entries of one bucket for the trigram at `i`; returns the hit, or null. */
function tryBucket(bucket: readonly Entry[], text: string, i: number): Hit | null {
  for (const e of bucket) {
    const a = e.anchor;
    const pos = i - e.offset;
    if (pos < 0 || !startsAt(text, pos, a)) continue;
    for (const c of a.rules) {
      const m = matchAround(c, text, pos);
      if (m === null) continue;
      let start = m.index;
      const left = c.rule.extendLeft;
      if (left !== undefined) while (start > 0 && left.test(text.charAt(start - 1))) start--;
      return { finding: { start, end: m.index + m[0].length, kind: c.rule.kind, label: c.rule.label }, folded: a.folded };
    }
  }
  return null;
}

function scan(t: AnchorTable, text: string): Finding[] | null {
  const { table, buckets } = t;
  let out: Finding[] | null = null;
  const n = text.length;
  if (n < 3) return null;
  const bytes = bytesOf(text);
  // `h` is slot(text[j - 2], text[j - 1], text[j]): the trigram ending at j, starting at j - 2.
  let h = (((bytes[0] as number) & 127) << 5) ^ ((bytes[1] as number) & 127);
  for (let j = 2; j < n; j++) {
    h = ((h << 5) ^ ((bytes[j] as number) & 127)) & MASK;
    const b = table[h] as number;
    if (b === 0) continue;
    const i = j - 2;
    const hit = tryBucket(buckets[b - 1] as readonly Entry[], text, i);
    if (hit === null) continue;
    (out ??= []).push(hit.finding);
    // Continue after the finding (the next trigram starts at its end); a keyword assignment may
    // still contain a specific format.
    const end = hit.finding.end;
    if (!hit.folded && end - 1 > i) {
      if (end + 2 >= n) break;
      h = (((bytes[end] as number) & 127) << 5) ^ ((bytes[end + 1] as number) & 127);
      j = end + 1;
    }
  }
  return out;
}

/** Builds the secrets detector over `rules` (all of them by default). */
export function secretsDetector(rules: readonly SecretRule[] = SECRET_RULES): Detector {
  const anchors = compileAnchors(rules);
  return {
    scan: (text) => scan(anchors, text) ?? NO_FINDINGS,
    explain: () => `credentials in ${rules.length} formats (cloud, source hosting, AI provider and SaaS keys, private keys, tokens, passwords)`,
  };
}
