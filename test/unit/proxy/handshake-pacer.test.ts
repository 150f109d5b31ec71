import { describe, expect, it } from 'vitest';
import { HandshakePacer } from '../../../agent/proxy/handshake-pacer.js';

/** Resolves at the next check phase: one turn of the event loop later. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('the handshake pacer', () => {
  it('runs at most N steps per turn of the event loop and the rest in order on later turns', async () => {
    const pacer = new HandshakePacer(3);
    let turn = 0;
    const ran: Array<[step: number, turn: number]> = [];
    for (let i = 0; i < 10; i++)
      pacer.admit(() => {
        ran.push([i, turn]);
        return true;
      });
    // The first three run at once, synchronously: a lone handshake or a burst's head waits for nothing.
    expect(ran).toEqual([[0, 0], [1, 0], [2, 0]]);
    expect(pacer.waiting).toBe(7);
    while (pacer.waiting > 0) {
      await nextTurn();
      turn++;
    }
    expect(ran.map(([step]) => step)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const perTurn = new Map<number, number>();
    for (const [, t] of ran) perTurn.set(t, (perTurn.get(t) ?? 0) + 1);
    expect(Math.max(...perTurn.values())).toBe(3);
  });

  it('does not spend the budget on a step that had nothing to do (its socket was gone)', () => {
    const pacer = new HandshakePacer(2);
    const ran: number[] = [];
    pacer.admit(() => false);
    pacer.admit(() => false);
    pacer.admit(() => (ran.push(1), true));
    pacer.admit(() => (ran.push(2), true));
    expect(ran).toEqual([1, 2]);
    expect(pacer.waiting).toBe(0);
  });

  it('refuses a budget that is not a positive integer', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) expect(() => new HandshakePacer(bad)).toThrow(RangeError);
  });
});
