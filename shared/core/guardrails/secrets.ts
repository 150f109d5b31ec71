/**
 * The secrets detector. Running 56 patterns over every prompt would cost 56 passes, and a regex
 * alternation of all anchors is slow too (the engine tries every alternative at every position), so
 * the scan is one pass in plain code over a bigram table: each position's two characters index a
 * table of the anchors (`ghp_`, `AKIA`, `sk-`, `-----BEGIN`…) that start with them. Only where an
 * anchor really starts do the rules that own it run, sticky, starting at most `lead` characters
 * before it. Hot path: a clean text costs one table lookup per character and allocates nothing.
 */
import { NO_FINDINGS, type Detector, type Finding } from './types.js';
import { SECRET_RULES, type SecretRule } from './secret-rules.js';

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

interface AnchorTable {
  /** (first char << 7 | second char) → bucket number + 1; ASCII only (every anchor is ASCII). */
  readonly table: Uint16Array;
  /** Anchors per bucket, longest first. */
  readonly buckets: readonly (readonly Anchor[])[];
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
  const table = new Uint16Array(128 * 128);
  const buckets: Anchor[][] = [];
  for (const anchor of byAnchor.values()) {
    for (const c0 of variants(anchor.text.charAt(0), anchor.folded)) {
      for (const c1 of variants(anchor.text.charAt(1), anchor.folded)) {
        const key = (c0 << 7) | c1;
        let b = table[key] as number;
        if (b === 0) {
          buckets.push([]);
          b = buckets.length;
          table[key] = b;
        }
        (buckets[b - 1] as Anchor[]).push(anchor);
      }
    }
  }
  for (const b of buckets) b.sort((x, y) => y.text.length - x.text.length);
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

/** Tries the anchors of one bucket at `i`; returns the hit, or null. */
function tryBucket(bucket: readonly Anchor[], text: string, i: number): Hit | null {
  for (const a of bucket) {
    if (!startsAt(text, i, a)) continue;
    for (const c of a.rules) {
      const m = matchAround(c, text, i);
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
  // One charCodeAt per position: the second character of this bigram is the first of the next.
  // Non-ASCII characters fold onto ASCII slots (& 127): a false candidate, rejected by `startsAt`.
  let c0 = n > 0 ? text.charCodeAt(0) & 127 : 0;
  for (let i = 0; i < n - 1; i++) {
    const c1 = text.charCodeAt(i + 1) & 127;
    const b = table[(c0 << 7) | c1] as number;
    c0 = c1;
    if (b === 0) continue;
    const hit = tryBucket(buckets[b - 1] as readonly Anchor[], text, i);
    if (hit === null) continue;
    (out ??= []).push(hit.finding);
    if (!hit.folded && hit.finding.end - 1 > i) {
      i = hit.finding.end - 1;
      c0 = i < n ? text.charCodeAt(i) & 127 : 0;
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
