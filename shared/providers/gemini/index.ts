/**
 * Gemini (`generativelanguage.googleapis.com`): `models/{model}:generateContent` and
 * `:streamGenerateContent` (SSE with `alt=sse`, else a JSON array). Prompt text: the system
 * instruction and every content part's text, function-call arguments and function responses.
 * Usage comes in `usageMetadata`, cumulative on every stream event.
 */
import { geminiError } from '../errors.js';
import { asNumber, asObject, collect, LastEvent, replace, walkStrings, type TextVisit } from '../json-walk.js';
import type { EventInfo, ProviderAdapter, ResponseReader, UsageParts } from '../types.js';

const PATH = /^\/v1(?:beta|alpha)?\/models\/([^/:]+):(generateContent|streamGenerateContent)$/;

function visitParts(content: unknown, fn: (t: string) => string | undefined, note: (w: string) => void): void {
  const parts = asObject(content)?.['parts'];
  if (!Array.isArray(parts)) return;
  for (const raw of parts) {
    const p = asObject(raw);
    if (p === null) continue;
    if (typeof p['text'] === 'string') {
      if (p['thought'] !== true) p['text'] = fn(p['text']) ?? p['text'];
    } else if (asObject(p['functionCall']) !== null) {
      const call = asObject(p['functionCall']) as Record<string, unknown>;
      call['args'] = walkStrings(call['args'], fn);
    } else if (asObject(p['functionResponse']) !== null) {
      const r = asObject(p['functionResponse']) as Record<string, unknown>;
      r['response'] = walkStrings(r['response'], fn);
    } else if ('inlineData' in p || 'fileData' in p) note('image');
  }
}

/** Where prompt text lives in a `generateContent` request: system instruction, then every content. */
export const visitGenerate: TextVisit = (body, fn, note) => {
  visitParts(body['systemInstruction'] ?? body['system_instruction'], fn, note);
  const contents = body['contents'];
  if (Array.isArray(contents)) for (const c of contents) visitParts(c, fn, note);
};

function readUsage(u: Record<string, unknown>, into: UsageParts): void {
  const input = asNumber(u['promptTokenCount']);
  const output = asNumber(u['candidatesTokenCount']);
  const thoughts = asNumber(u['thoughtsTokenCount']);
  const cached = asNumber(u['cachedContentTokenCount']);
  if (input !== null) into.inputTokens = input;
  // Thinking tokens are billed as output.
  if (output !== null || thoughts !== null) into.outputTokens = (output ?? 0) + (thoughts ?? 0);
  if (cached !== null) into.cacheReadTokens = cached;
}

function candidateTexts(o: Record<string, unknown> | null, fn?: (t: string) => string): string[] {
  const out: string[] = [];
  const candidates = o?.['candidates'];
  if (!Array.isArray(candidates)) return out;
  for (const c of candidates) {
    const parts = asObject(asObject(c)?.['content'])?.['parts'];
    if (!Array.isArray(parts)) continue;
    for (const raw of parts) {
      const p = asObject(raw);
      if (p === null || typeof p['text'] !== 'string' || p['thought'] === true) continue;
      if (fn !== undefined) p['text'] = fn(p['text']);
      out.push(p['text'] as string);
    }
  }
  return out;
}

/**
 * Reads `generateContent` responses (JSON, a JSON array, or SSE). `unwrap` finds the response in
 * each body or event: itself for Gemini, its `response` member for Code Assist and others that wrap it.
 */
export function generateContentReader(unwrap: (o: Record<string, unknown> | null) => Record<string, unknown> | null = (o) => o): ResponseReader {
  let usage: UsageParts | null = null;
  const last = new LastEvent();
  const read = (wrapped: Record<string, unknown> | null): string => {
    const o = unwrap(wrapped);
    const u = asObject(o?.['usageMetadata']);
    if (u !== null) readUsage(u, (usage ??= {}));
    return candidateTexts(o).join('');
  };
  return {
    event(ev): EventInfo {
      const text = read(last.parse(ev));
      return { text: text.length > 0 ? text : null, usageOnly: false };
    },
    json(body) {
      // A stream without `alt=sse` is a JSON array of responses.
      return Array.isArray(body) ? body.map((o) => read(asObject(o))).join('') : read(asObject(body));
    },
    withText(ev, text) {
      const o = last.of(ev) as Record<string, unknown>;
      let first = true;
      candidateTexts(unwrap(o), () => {
        const t = first ? text : '';
        first = false;
        return t;
      });
      return `data: ${JSON.stringify(o)}\n\n`;
    },
    rewriteJson(body, fn) {
      if (Array.isArray(body)) for (const o of body) candidateTexts(unwrap(asObject(o)), fn);
      else candidateTexts(unwrap(asObject(body)), fn);
    },
    errorEvent: (message) => `data: ${JSON.stringify({ error: { code: 403, message, status: 'PERMISSION_DENIED' } })}\n\n`,
    usage: () => usage,
  };
}

/** The Gemini adapter. */
export const geminiAdapter: ProviderAdapter = {
  id: 'gemini',
  match(host, method, path) {
    if (host !== 'generativelanguage.googleapis.com' || method !== 'POST') return null;
    const m = PATH.exec(path);
    if (m === null) return null;
    return { adapter: geminiAdapter, provider: 'gemini', api: m[2] as string, pathModel: decodeURIComponent(m[1] as string), pathStream: m[2] === 'streamGenerateContent' };
  },
  parse(endpoint, body) {
    const o = asObject(body) ?? {};
    const { texts, chars, notes } = collect(visitGenerate, o);
    return { model: endpoint.pathModel, stream: endpoint.pathStream, texts, promptChars: chars, notes, maxOutputTokens: asNumber(asObject(o['generationConfig'])?.['maxOutputTokens']) };
  },
  rewriteTexts(_endpoint, body, texts) {
    const o = asObject(body);
    if (o !== null) replace(visitGenerate, o, texts);
  },
  prepare: () => false,
  reader: () => generateContentReader(),
  credential: (_endpoint, key) => ['x-goog-api-key', key],
  error: geminiError,
};
