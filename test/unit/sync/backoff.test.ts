/** Reconnect backoff: windows double up to the cap, each delay is uniform within its window (full jitter), and a success starts over. */
import { describe, expect, it } from 'vitest';
import { Backoff } from '../../../agent/sync/backoff.js';

describe('Backoff', () => {
  it('doubles the window up to the cap and draws each delay within it', () => {
    const draws = [0.999, 0.5, 0, 0.999, 0.999, 0.999, 0.999];
    const b = new Backoff({ baseMs: 100, capMs: 1000, random: () => draws.shift() ?? 0.999 });
    expect([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([99, 100, 0, 799, 999, 999]);
    expect(b.attempts).toBe(6);
    b.reset();
    expect(b.window()).toBe(100);
  });

  it('spreads a fleet: a thousand clients in their third retry land all over the window', () => {
    const delays = Array.from({ length: 1000 }, () => {
      const b = new Backoff({ baseMs: 1000, capMs: 60_000 });
      b.next();
      b.next();
      return b.next();
    });
    // Window 4 s: every delay inside it, and every quarter of it used (no wave at one instant).
    expect(Math.max(...delays)).toBeLessThan(4000);
    const quarters = new Set(delays.map((d) => Math.floor(d / 1000)));
    expect([...quarters].sort()).toEqual([0, 1, 2, 3]);
  });
});
