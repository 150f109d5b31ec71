/**
 * The secrets scanner's fast path (text copied to bytes, rolling trigram hash, lookbehind pre-check
 * before a rule's regex) against two references, over a corpus: every sample and near miss of the
 * rule tests, each alone and spliced at random offsets into random text (prose, code, punctuation,
 * non-ASCII characters whose low byte is an anchor character).
 *
 * 1. The old path (`secrets-reference.ts`, the scanner as it was): identical findings, in order.
 * 2. All rules on the whole text: every match of every rule's own regex, run globally over the whole
 *    text (no anchors, no table) and accepted by the rule's `validate`, overlaps a finding of the
 *    scanner (nothing a rule can find goes unreported).
 */
import { describe, expect, it } from 'vitest';
import { SECRET_RULES } from '../../../shared/core/guardrails/secret-rules.js';
import { secretsDetector } from '../../../shared/core/guardrails/secrets.js';
import type { Finding } from '../../../shared/core/guardrails/types.js';
import { CASES } from './secret-cases.js';
import { referenceSecretsScan } from './secrets-reference.js';

const detector = secretsDetector();
const reference = referenceSecretsScan();

let seed = 0xc0ffee;
function random(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 0x1_0000_0000;
}
const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;

/** Filler: words that contain keyword anchors (token, key, redis, http…), code, digits, non-ASCII. */
const WORDS = [
  'the', 'token', 'count', 'key', 'keys', 'secret', 'password', 'pwd', 'reduce', 'ordered', 'https://docs.example.com/a?b=2', 'http', 'postgres', 'mysql', 'aws',
  'sk-', 'ghp_', 'AKIA', 'eyJ', 'sv=', ':AA', '8Q~', 'SK', 'dapi', 'hf_', 'api_key =', 'token:', '"', "'", '=', ':', '@', '-', '_', '.', '/', '\n', '  ',
  'const x = { a: 1 };', '42', '2024-05-01', 'é', '€', '😀', '\u016b', '\u0141', '\u0173\u0165', 'Ｋ', 'ſecret', 'K', 'ꝁ', '\u212a', 'export function f() {}',
];
function filler(words: number): string {
  let s = '';
  for (let i = 0; i < words; i++) s += pick(WORDS) + (random() < 0.7 ? ' ' : '');
  return s;
}
const rand = (alphabet: string, n: number): string => {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(random() * alphabet.length)];
  return s;
};

const samples = Object.values(CASES).flatMap((c) => [c.sample, c.nearMiss]);

function corpus(): string[] {
  const out = [...samples];
  for (let k = 0; k < 1500; k++) {
    let text = filler(Math.floor(random() * 200));
    const splices = 1 + Math.floor(random() * 4);
    for (let s = 0; s < splices; s++) {
      const at = Math.floor(random() * (text.length + 1));
      let piece = pick(samples);
      // Sometimes cut a sample short or glue it to its neighbours (near misses of the boundaries).
      if (random() < 0.2) piece = piece.slice(0, Math.floor(random() * piece.length));
      if (random() < 0.2) piece = rand('aZ9_-', 1) + piece + rand('aZ9_-.=', 1);
      text = text.slice(0, at) + piece + text.slice(at);
    }
    out.push(text);
  }
  // Texts made only of anchor material and separators: dense candidates, overlapping anchors.
  for (let k = 0; k < 300; k++) out.push(rand('skSK-_pxoaghAKIAtokenTOKEN=: "\'/@.0123456789abcdef~Q', Math.floor(random() * 400)));
  return out;
}

const key = (f: Finding): string => `${f.start}:${f.end}:${f.kind}`;

describe('secrets scanner equivalence', () => {
  const texts = corpus();

  it('finds exactly what the old path finds, in the same order', () => {
    let findings = 0;
    for (const text of texts) {
      const got = detector.scan(text).map(key);
      const want = reference(text).map(key);
      if (got.join() !== want.join()) expect({ text, got }).toEqual({ text, got: want });
      findings += want.length;
    }
    // The corpus exercises the rules: most samples are found in it.
    expect(findings).toBeGreaterThan(1000);
  });

  it('covers every match of every rule run on the whole text', () => {
    const rules = SECRET_RULES.map((r) => ({ rule: r, re: new RegExp(r.pattern, r.caseInsensitive === true ? 'gi' : 'g') }));
    let matches = 0;
    for (const text of texts) {
      const found = detector.scan(text);
      for (const { rule, re } of rules) {
        re.lastIndex = 0;
        let m: RegExpExecArray | null;
        while ((m = re.exec(text)) !== null) {
          if (m[0].length === 0) re.lastIndex++;
          if (rule.validate !== undefined && !rule.validate(m[0])) continue;
          matches++;
          const start = m.index;
          const end = m.index + m[0].length;
          // The match overlaps a finding: the secret is reported (and a block blocks). Not always
          // every character: after a specific finding the scan resumes at its end, so an assignment
          // that starts inside it and runs past it (`sv=…&API_TOKEN=r8_…`) is reported as the
          // specific format only; the old path did the same (test above).
          if (!found.some((f) => f.start < end && start < f.end)) {
            expect({ kind: rule.kind, match: m[0], text }).toBe('overlapped by a finding');
          }
        }
      }
    }
    expect(matches).toBeGreaterThan(1000);
  });
});

describe('secrets scanner on long texts', () => {
  it('finds the same in a text longer than the shared byte buffer keeps (1 MB)', () => {
    const sample = CASES['github-pat']?.sample ?? '';
    const text = `${'lorem ipsum token = 1; '.repeat(50_000)}${sample} ${'x'.repeat(200_000)}${sample}`;
    expect(text.length).toBeGreaterThan(1 << 20);
    expect(detector.scan(text).map(key)).toEqual(reference(text).map(key));
    // And a short text afterwards still reads its own bytes.
    expect(detector.scan(sample).map(key)).toEqual(reference(sample).map(key));
  });
});
