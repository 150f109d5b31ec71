import { describe, expect, it } from 'vitest';
import { RateLimiter, deviceShareOf } from '../../../shared/core/rate-limits.js';

const now = Date.parse('2026-11-26T12:00:10Z');

describe('rate limiter', () => {
  it('refuses the request over the per-minute limit with the seconds to the next minute', () => {
    const r = new RateLimiter();
    for (let i = 0; i < 3; i++) expect(r.admit('u', { requestsPerMinute: 3 }, 10, now).ok).toBe(true);
    const refused = r.admit('u', { requestsPerMinute: 3 }, 10, now);
    expect(refused).toMatchObject({ ok: false, code: 'rate_limited', retryAfterSeconds: 50 });
    expect(r.admit('u', { requestsPerMinute: 3 }, 10, now + 50_000).ok).toBe(true);
  });

  it('counts principals separately', () => {
    const r = new RateLimiter();
    expect(r.admit('a', { requestsPerMinute: 1 }, 1, now).ok).toBe(true);
    expect(r.admit('b', { requestsPerMinute: 1 }, 1, now).ok).toBe(true);
    expect(r.admit('a', { requestsPerMinute: 1 }, 1, now).ok).toBe(false);
  });

  it('reserves estimated tokens and settles to the real count', () => {
    const r = new RateLimiter();
    const limit = { tokensPerMinute: 1000 };
    const t = r.admit('u', limit, 800, now);
    expect(r.admit('u', limit, 300, now)).toMatchObject({ ok: false, code: 'token_limited' });
    if (t.ok) r.settle(t, 100);
    expect(r.admit('u', limit, 300, now).ok).toBe(true);
  });

  it('limits concurrent requests until one settles', () => {
    const r = new RateLimiter();
    const t1 = r.admit('u', { concurrent: 1 }, 1, now);
    expect(r.admit('u', { concurrent: 1 }, 1, now)).toMatchObject({ ok: false, code: 'concurrency_limited', retryAfterSeconds: 1 });
    if (t1.ok) r.settle(t1, 1);
    expect(r.admit('u', { concurrent: 1 }, 1, now).ok).toBe(true);
  });

  it('limits tokens per day and says when the day ends', () => {
    const r = new RateLimiter();
    const t = r.admit('u', { tokensPerDay: 100 }, 90, now);
    if (t.ok) r.settle(t, 90);
    const refused = r.admit('u', { tokensPerDay: 100 }, 20, now + 3_600_000);
    expect(refused).toMatchObject({ ok: false, code: 'token_limited' });
    if (!refused.ok) expect(refused.retryAfterSeconds).toBe((Date.parse('2026-11-27T00:00:00Z') - (now + 3_600_000)) / 1000);
  });

  it('day usage survives an export and import', () => {
    const a = new RateLimiter();
    const t = a.admit('u', { tokensPerDay: 100 }, 60, now);
    if (t.ok) a.settle(t, 60);
    const b = new RateLimiter();
    b.importState(JSON.parse(JSON.stringify(a.exportState(now))), now);
    expect(b.admit('u', { tokensPerDay: 100 }, 50, now).ok).toBe(false);
  });
});

describe('a device\'s share of a fleet-scoped limit', () => {
  it('scales every number of a fleet limit (rounded down, at least 1) and leaves device limits alone', () => {
    const fleet = { requestsPerMinute: 30, tokensPerMinute: 1000, concurrent: 2, scope: 'fleet' as const };
    expect(deviceShareOf(fleet, 1 / 3)).toEqual({ requestsPerMinute: 10, tokensPerMinute: 333, concurrent: 1, scope: 'fleet' });
    expect(deviceShareOf(fleet, 1 / 1000)).toEqual({ requestsPerMinute: 1, tokensPerMinute: 1, concurrent: 1, scope: 'fleet' });
    expect(deviceShareOf(fleet, 1)).toBe(fleet);
    const device = { requestsPerMinute: 30 };
    expect(deviceShareOf(device, 1 / 3)).toBe(device);
    expect(deviceShareOf(null, 0.5)).toBeNull();
  });
});
