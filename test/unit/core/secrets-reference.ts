/**
 * The secrets scanner exactly as it was at commit 0fd4ae6 (hashed trigram table read with
 * `charCodeAt`, every rule tried at every start its `lead` allows), kept verbatim as the reference
 * the equivalence test compares the current scanner with. Test code only.
 */
import type { Finding } from '../../../shared/core/guardrails/types.js';
import { SECRET_RULES, type SecretRule } from '../../../shared/core/guardrails/secret-rules.js';

interface CompiledRule {
  readonly rule: SecretRule;
  readonly re: RegExp;
  readonly lead: number;
}

interface Anchor {
  /** Lower-cased when `folded`. */
  readonly text: string;
  readonly folded: boolean;
  readonly rules: readonly CompiledRule[];
}

/** Table size: 2^16 slots (128 KB), a hash of three 7-bit characters; collisions only cost a compare. */
const SLOTS = 1 << 16;
function slot(c0: number, c1: number, c2: number): number {
  return ((c0 << 9) ^ (c1 << 4) ^ c2 ^ (c1 >> 3)) & (SLOTS - 1);
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
    const compiled: CompiledRule = { rule, re: new RegExp(rule.pattern, folded ? 'yi' : 'y'), lead: rule.lead ?? 0 };
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
  // One charCodeAt per position: the window slides by one character. Non-ASCII characters fold onto
  // ASCII (& 127): a false candidate at worst, rejected by `startsAt`.
  let c0 = text.charCodeAt(0) & 127;
  let c1 = text.charCodeAt(1) & 127;
  for (let i = 0; i < n - 2; i++) {
    const c2 = text.charCodeAt(i + 2) & 127;
    const b = table[slot(c0, c1, c2)] as number;
    c0 = c1;
    c1 = c2;
    if (b === 0) continue;
    const hit = tryBucket(buckets[b - 1] as readonly Entry[], text, i);
    if (hit === null) continue;
    (out ??= []).push(hit.finding);
    // Continue after the finding; a keyword assignment may still contain a specific format.
    if (!hit.folded && hit.finding.end - 1 > i) {
      i = hit.finding.end - 1;
      if (i + 2 >= n) break;
      c0 = text.charCodeAt(i + 1) & 127;
      c1 = text.charCodeAt(i + 2) & 127;
    }
  }
  return out;
}

/** The scan as it was before the byte buffer and rolling hash (commit 0fd4ae6), over `rules`. */
export function referenceSecretsScan(rules: readonly SecretRule[] = SECRET_RULES): (text: string) => readonly Finding[] {
  const anchors = compileAnchors(rules);
  return (text) => scan(anchors, text) ?? [];
}
