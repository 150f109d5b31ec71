/** Visiting every string inside a JSON value (tool-call arguments, function responses). */
import type { SseEvent } from './sse.js';

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
  // Hot path: every stream ends with a `[DONE]` that is no object. A thrown SyntaxError costs a
  // stack trace (measured ~5% of the agent's CPU on governed streams), so only text that starts
  // as an object is parsed.
  if (!startsAsObject(text)) return null;
  try {
    return asObject(JSON.parse(text));
  } catch {
    return null;
  }
}

/** True when the first character that is not JSON whitespace is `{`. */
function startsAsObject(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x7b) return true;
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return false;
  }
  return false;
}

/**
 * The last SSE event a response reader parsed. A tap rewrites an event's text right after the
 * reader read it (hot path: a guarded stream rewrites most text events), so the rewrite finds the
 * parsed object here instead of parsing the event again.
 */
export class LastEvent {
  private ev: SseEvent | null = null;
  private data: Record<string, unknown> | null = null;

  /** Parses `ev`'s data (null when it is not a JSON object) and remembers it. */
  parse(ev: SseEvent): Record<string, unknown> | null {
    this.ev = ev;
    this.data = parseObject(ev.data);
    return this.data;
  }

  /** True when `ev` is the event parsed last. */
  is(ev: SseEvent): boolean {
    return ev === this.ev;
  }

  /** `ev`'s data: the remembered object when it was parsed last, else parsed now. */
  of(ev: SseEvent): Record<string, unknown> | null {
    return ev === this.ev ? this.data : parseObject(ev.data);
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
