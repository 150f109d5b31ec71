/**
 * Realistic-looking (fake) credentials for the secrets tests, generated from a seeded PRNG so the
 * repository holds no literal key that a scanner would flag, and every run sees the same samples.
 */
let seed = 0x5eed;
function next(): number {
  // xorshift32: deterministic, good enough to spread characters.
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 0x1_0000_0000;
}

export const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export const HEX = '0123456789abcdef';
export const UPPER_B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
export const URLSAFE = `${ALNUM}_-`;
export const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** `n` characters drawn from `alphabet`. */
export function rand(alphabet: string, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(next() * alphabet.length)];
  return s;
}
