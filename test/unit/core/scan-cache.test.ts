import { describe, expect, it } from 'vitest';
import { cachedDetector, MIN_CACHED_CHARS } from '../../../shared/core/guardrails/scan-cache.js';
import type { Detector, Finding } from '../../../shared/core/guardrails/types.js';

function counting(): Detector & { calls: number } {
  const d = {
    calls: 0,
    scan(text: string): readonly Finding[] {
      d.calls++;
      const i = text.indexOf('SECRET');
      return i === -1 ? [] : [{ start: i, end: i + 6, kind: 'k', label: 'l' }];
    },
    explain: () => 'x',
  };
  return d;
}

describe('scan cache', () => {
  const long = (s: string) => s + 'x'.repeat(MIN_CACHED_CHARS);

  it('answers a repeated text (a resent conversation turn) without scanning it again', () => {
    const inner = counting();
    const d = cachedDetector(inner);
    const text = long('hello SECRET ');
    expect(d.scan(text)).toHaveLength(1);
    // A different string object with the same content, as JSON.parse makes on the next turn.
    expect(d.scan(JSON.parse(JSON.stringify(text)) as string)).toHaveLength(1);
    expect(inner.calls).toBe(1);
  });

  it('never answers for a different text, even one that shares every sampled character', () => {
    const inner = counting();
    const d = cachedDetector(inner);
    const base = 'a'.repeat(MIN_CACHED_CHARS * 4);
    // Differ at one unsampled position: same fingerprint, different text.
    const other = `${base.slice(0, 101)}SECRET${base.slice(107)}`;
    expect(d.scan(base)).toHaveLength(0);
    expect(d.scan(other)).toHaveLength(1);
    expect(inner.calls).toBe(2);
  });

  it('scans short texts every time', () => {
    const inner = counting();
    const d = cachedDetector(inner);
    d.scan('short');
    d.scan('short');
    expect(inner.calls).toBe(2);
  });

  it('holds at most its character budget', () => {
    const inner = counting();
    const d = cachedDetector(inner, 4 * 1024);
    const texts = Array.from({ length: 10 }, (_, i) => long(`text ${i} `));
    for (const t of texts) d.scan(t);
    d.scan(texts[0]!); // evicted by now: scanned again
    expect(inner.calls).toBe(11);
  });
});
