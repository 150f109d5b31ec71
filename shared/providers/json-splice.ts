/**
 * Replacing one string value in an event's raw JSON without parsing and re-serialising the whole
 * event. Hot path: output redaction rewrites most text events of a guarded stream (the guard holds
 * back the last word of each delta), and `JSON.stringify` of the event cost more than the rest of
 * the rewrite.
 */

/**
 * `data` with the value `"key":<old>` replaced by `"key":<next>`, both serialised as
 * `JSON.stringify` does; null when that exact pair does not occur exactly once in `data` (the
 * provider escaped it differently, spaced it, or a second object carries the same pair) or `data`
 * spans lines: the caller then re-serialises the parsed event. Inside a JSON string every quote is
 * escaped, so an unescaped `"key":"…"` can only be a real member.
 */
export function spliceStringMember(data: string, key: string, old: string, next: string): string | null {
  if (data.includes('\n')) return null;
  const needle = `"${key}":${JSON.stringify(old)}`;
  const at = data.indexOf(needle);
  if (at === -1 || data.indexOf(needle, at + needle.length) !== -1) return null;
  return `${data.slice(0, at)}"${key}":${JSON.stringify(next)}${data.slice(at + needle.length)}`;
}
