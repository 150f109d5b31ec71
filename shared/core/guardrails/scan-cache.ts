/**
 * A bounded cache of scan results per exact text. Chat clients resend the whole conversation on
 * every turn, so most of a prompt's text was already scanned by the same detectors a turn earlier;
 * a hit costs a fingerprint and one string comparison instead of a scan.
 *
 * Hot path. The key is a cheap fingerprint (length and 64 sampled characters), not the text itself:
 * a Map keyed by a fresh 4 KB string would hash all of it on every lookup, a cost comparable to a
 * scan. A hit is confirmed by comparing the whole text, so a fingerprint collision is only a miss,
 * never a wrong answer. Bounded by total characters held, least recently used evicted first; one
 * cache per compiled policy, so a new policy starts empty.
 */
import type { Detector, Finding } from './types.js';

/** Texts shorter than this are scanned every time: caching them costs about as much as scanning. */
export const MIN_CACHED_CHARS = 512;

const SAMPLES = 64;

interface Entry {
  readonly text: string;
  readonly found: readonly Finding[];
}

/** Length and up to 64 characters spread over the text, mixed into 32 bits. */
function fingerprint(text: string): number {
  const n = text.length;
  const step = Math.max(1, Math.floor(n / SAMPLES));
  let h = n | 0;
  for (let i = 0; i < n; i += step) h = Math.imul(h ^ text.charCodeAt(i), 0x9e3779b1);
  h = Math.imul(h ^ text.charCodeAt(n - 1), 0x85ebca6b);
  return h >>> 0;
}

/** Wraps `detector` with a cache holding at most `maxChars` characters of text. */
export function cachedDetector(detector: Detector, maxChars = 4 * 1024 * 1024): Detector {
  const cache = new Map<number, Entry>();
  let held = 0;
  return {
    scan(text) {
      if (text.length < MIN_CACHED_CHARS) return detector.scan(text);
      const key = fingerprint(text);
      const hit = cache.get(key);
      if (hit !== undefined && hit.text === text) {
        // Refresh its place in the LRU order.
        cache.delete(key);
        cache.set(key, hit);
        return hit.found;
      }
      const found = detector.scan(text);
      if (text.length <= maxChars / 4) {
        if (hit !== undefined) {
          cache.delete(key);
          held -= hit.text.length;
        }
        cache.set(key, { text, found });
        held += text.length;
        for (const [k, e] of cache) {
          if (held <= maxChars) break;
          cache.delete(k);
          held -= e.text.length;
        }
      }
      return found;
    },
    explain: () => detector.explain(),
  };
}
