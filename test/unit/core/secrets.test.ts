import { describe, expect, it } from 'vitest';
import { secretsDetector } from '../../../shared/core/guardrails/secrets.js';
import { SECRET_RULES } from '../../../shared/core/guardrails/secret-rules.js';
import { ALNUM, rand, URLSAFE } from './samples.js';
import { CASES } from './secret-cases.js';

const detector = secretsDetector();
const kinds = (text: string): string[] => detector.scan(text).map((f) => f.kind);

describe('secrets detector', () => {
  it('knows at least 40 credential formats, each with a test case here', () => {
    expect(SECRET_RULES.length).toBeGreaterThanOrEqual(40);
    expect(Object.keys(CASES).sort()).toEqual(SECRET_RULES.map((r) => r.kind).sort());
  });

  for (const rule of SECRET_RULES) {
    const c = CASES[rule.kind];
    if (c === undefined) continue;
    it(`finds ${rule.label} (${rule.kind})`, () => {
      expect(kinds(c.sample)).toContain(rule.kind);
    });
    it(`does not report a near miss as ${rule.kind}`, () => {
      expect(kinds(c.nearMiss)).not.toContain(rule.kind);
    });
  }

  it('reports where the secret is, so redaction covers all of it', () => {
    const key = `ghp_${rand(ALNUM, 36)}`;
    const text = `use ${key} please`;
    const [f] = detector.scan(text);
    expect(text.slice(f!.start, f!.end)).toBe(key);
  });

  it('finds nothing in ordinary prose and code', () => {
    const text = 'Please refactor this function: const total = items.reduce((a, b) => a + b.price, 0); the API key is stored in the vault, and the token count was 4096. See https://example.com/docs?page=2.';
    expect(detector.scan(text)).toEqual([]);
  });

  it('prefers the most specific format at one position', () => {
    expect(kinds(`sk-ant-api03-${rand(URLSAFE, 93)}AA`)).toEqual(['anthropic-api-key']);
  });
});
