/** Visiting every string inside a JSON value (tool-call arguments, function responses). */

/** Calls `fn` on each string inside `value`, depth first; a returned string replaces it. */
export function walkStrings(value: unknown, fn: (s: string) => string | undefined): unknown {
  if (typeof value === 'string') return fn(value) ?? value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = walkStrings(value[i], fn);
    return value;
  }
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    for (const k of Object.keys(o)) o[k] = walkStrings(o[k], fn);
  }
  return value;
}

/** A plain object, or null. */
export function asObject(v: unknown): Record<string, unknown> | null {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

/** Parses JSON text into an object; null for anything else (malformed, `[DONE]`, an array). */
export function parseObject(text: string): Record<string, unknown> | null {
  if (text.length === 0) return null;
  try {
    return asObject(JSON.parse(text));
  } catch {
    return null;
  }
}

/** A number, or null for anything else. */
export function asNumber(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/**
 * A text visitor: gives `fn` each prompt text in order, with its index; `fn` returns a replacement
 * or undefined. Adapters write one visit per API and use it both to extract and to rewrite.
 */
export type TextVisit = (body: Record<string, unknown>, fn: (text: string) => string | undefined, note: (what: string) => void) => void;

/** Runs a visit to collect texts and notes. */
export function collect(visit: TextVisit, body: Record<string, unknown>): { texts: string[]; chars: number; notes: string[] } {
  const texts: string[] = [];
  const notes: string[] = [];
  let chars = 0;
  visit(
    body,
    (t) => {
      texts.push(t);
      chars += t.length;
      return undefined;
    },
    (n) => notes.push(n),
  );
  return { texts, chars, notes };
}

/** Runs a visit to replace texts (aligned with what `collect` returned). */
export function replace(visit: TextVisit, body: Record<string, unknown>, texts: ReadonlyArray<string | null>): void {
  let i = 0;
  visit(
    body,
    () => texts[i++] ?? undefined,
    () => {},
  );
}
