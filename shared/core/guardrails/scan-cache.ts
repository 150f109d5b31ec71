/**
 * A bounded cache of scan results per exact text. Chat clients resend the whole conversation on
 * every turn, so most of a prompt's text was already scanned by the same detectors a turn earlier;
 * a cache hit costs one string hash instead of a scan. Keyed by the text itself (never a lossy
 * hash, so a hit is always the right answer), bounded by total characters held, least recently used
 * evicted first. One cache per compiled policy: a new policy starts empty.
 */
import type { Detector, Finding } from './types.js';

/** Texts shorter than this are scanned every time: caching them costs about as much as scanning. */
export const MIN_CACHED_CHARS = 512;

/** Wraps `detector` with a cache holding at most `maxChars` characters of text. */
export function cachedDetector(detector: Detector, maxChars = 4 * 1024 * 1024): Detector {
  const cache = new Map<string, readonly Finding[]>();
  let held = 0;
  return {
    scan(text) {
      if (text.length < MIN_CACHED_CHARS) return detector.scan(text);
      const hit = cache.get(text);
      if (hit !== undefined) {
        // Refresh its place in the LRU order.
        cache.delete(text);
        cache.set(text, hit);
        return hit;
      }
      const found = detector.scan(text);
      if (text.length <= maxChars / 4) {
        cache.set(text, found);
        held += text.length;
        for (const key of cache.keys()) {
          if (held <= maxChars) break;
          cache.delete(key);
          held -= key.length;
        }
      }
      return found;
    },
    explain: () => detector.explain(),
  };
}
