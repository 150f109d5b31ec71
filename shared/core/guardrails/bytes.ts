/**
 * A text as bytes, one per UTF-16 code unit (latin1: the low byte of each), written into one reused
 * buffer. A native copy costs a fraction of a microsecond for 4 KB, and reading a Uint8Array in a hot
 * loop is several times cheaper than `charCodeAt` (which dispatches on the string's representation
 * at every call). Positions are the text's positions. A code unit above 255 folds onto its low byte,
 * so a byte can claim an ASCII character that is not there, never miss one that is: scanners use
 * the bytes to find candidates and confirm them on the text.
 *
 * The buffer is shared and overwritten by the next call: valid until the caller's synchronous scan
 * ends (no scanner calls another while it holds the bytes).
 */
import { Buffer } from 'node:buffer';

let scratch = Buffer.allocUnsafe(64 * 1024);
/** The shared buffer grows to this at most; a longer text gets a buffer of its own, not kept. */
const MAX_KEPT = 1 << 20;

/** `text`'s code units' low bytes, at `[0, text.length)` of the returned (shared) buffer. */
export function bytesOf(text: string): Uint8Array {
  if (text.length > scratch.length) {
    if (text.length > MAX_KEPT) return Buffer.from(text, 'latin1');
    scratch = Buffer.allocUnsafe(Math.min(MAX_KEPT, Math.max(text.length, scratch.length * 2)));
  }
  scratch.write(text, 0, 'latin1');
  return scratch;
}
