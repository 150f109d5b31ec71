import { describe, expect, it } from 'vitest';
import { periodEnd, periodStart } from '../../../shared/core/periods.js';

const t = (iso: string): number => Date.parse(iso);
const iso = (ms: number): string => new Date(ms).toISOString();

describe('calendar-aligned UTC windows', () => {
  const now = t('2026-11-26T13:37:25.123Z'); // a Thursday
  it.each([
    ['1m', '2026-11-26T13:37:00.000Z', '2026-11-26T13:38:00.000Z'],
    ['1h', '2026-11-26T13:00:00.000Z', '2026-11-26T14:00:00.000Z'],
    ['1d', '2026-11-26T00:00:00.000Z', '2026-11-27T00:00:00.000Z'],
    ['1w', '2026-11-23T00:00:00.000Z', '2026-11-30T00:00:00.000Z'],
    ['1M', '2026-11-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z'],
    ['1Y', '2026-01-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z'],
  ] as const)('%s runs from %s to %s', (period, start, end) => {
    expect(iso(periodStart(period, now))).toBe(start);
    expect(iso(periodEnd(period, now))).toBe(end);
  });
  it('a week starting on a Sunday still starts on the Monday before', () => {
    expect(iso(periodStart('1w', t('2026-11-29T23:59:59Z')))).toBe('2026-11-23T00:00:00.000Z');
  });
  it('December rolls into January', () => {
    expect(iso(periodEnd('1M', t('2026-12-31T23:00:00Z')))).toBe('2027-01-01T00:00:00.000Z');
  });
});
