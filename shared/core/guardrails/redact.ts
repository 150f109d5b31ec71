/** Replacing findings in text with a marker that names the kind of thing, never the thing. */
import type { Finding } from './types.js';

/** The marker put in place of a finding. */
export function redactionMarker(kind: string): string {
  return `[REDACTED:${kind}]`;
}

/** `text` with every finding replaced by its marker (overlapping findings merge into the first). */
export function redact(text: string, findings: readonly Finding[]): string {
  if (findings.length === 0) return text;
  const sorted = [...findings].sort((a, b) => a.start - b.start || b.end - a.end);
  let out = '';
  let pos = 0;
  for (const f of sorted) {
    if (f.end <= pos) continue;
    out += text.slice(pos, Math.max(pos, f.start));
    if (f.start >= pos) out += redactionMarker(f.kind);
    pos = f.end;
  }
  return out + text.slice(pos);
}
