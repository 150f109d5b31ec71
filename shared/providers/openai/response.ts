/**
 * Reading OpenAI-style responses. Chat completions stream `data:` chunks with `choices[].delta`, and
 * usage only in a final chunk with empty `choices` when `stream_options.include_usage` is set; the
 * Responses API streams typed events and reports usage in `response.completed`.
 */
import type { SseEvent } from '../sse.js';
import { spliceStringMember } from '../json-splice.js';
import { asNumber, asObject, LastEvent } from '../json-walk.js';
import type { EventInfo, ResponseReader, UsageParts } from '../types.js';

const NOTHING: EventInfo = { text: null, usageOnly: false };

/** prompt/completion (chat) or input/output (responses) usage → our parts. */
function readUsage(u: Record<string, unknown>, into: UsageParts): void {
  const input = asNumber(u['prompt_tokens']) ?? asNumber(u['input_tokens']);
  const output = asNumber(u['completion_tokens']) ?? asNumber(u['output_tokens']);
  const details = asObject(u['prompt_tokens_details']) ?? asObject(u['input_tokens_details']);
  if (input !== null) into.inputTokens = input;
  if (output !== null) into.outputTokens = output;
  const cached = details === null ? null : asNumber(details['cached_tokens']);
  if (cached !== null) into.cacheReadTokens = cached;
}

function errorEvent(message: string, code: string): string {
  return `data: ${JSON.stringify({ error: { message, type: 'outpost_guardrail', code, param: null } })}\n\n`;
}

/** Reader for chat completions (JSON or SSE). */
export function chatReader(): ResponseReader {
  let usage: UsageParts | null = null;
  const last = new LastEvent();
  /** The text of the event parsed last (null when it had none). */
  let lastText: string | null = null;
  return {
    event(ev) {
      const o = last.parse(ev);
      lastText = null;
      if (o === null) return NOTHING;
      const u = asObject(o['usage']);
      const choices = o['choices'];
      if (u !== null) readUsage(u, (usage ??= {}));
      const first = Array.isArray(choices) ? asObject(asObject(choices[0])?.['delta']) : null;
      const text = first !== null && typeof first['content'] === 'string' ? first['content'] : null;
      lastText = text;
      return { text, usageOnly: u !== null && Array.isArray(choices) && choices.length === 0 };
    },
    json(body) {
      const o = asObject(body);
      const u = asObject(o?.['usage']);
      if (u !== null) readUsage(u, (usage ??= {}));
      const choices = o?.['choices'];
      if (!Array.isArray(choices)) return '';
      return choices.map((c) => asObject(asObject(c)?.['message'])?.['content']).filter((t): t is string => typeof t === 'string').join('\n');
    },
    withText(ev, text) {
      const spliced = last.is(ev) && lastText !== null ? spliceStringMember(ev.data, 'content', lastText, text) : null;
      if (spliced !== null) return `data: ${spliced}\n\n`;
      const o = last.of(ev) as Record<string, unknown>;
      const delta = asObject(asObject((o['choices'] as unknown[])[0])?.['delta']) as Record<string, unknown>;
      delta['content'] = text;
      return `data: ${JSON.stringify(o)}\n\n`;
    },
    rewriteJson(body, fn) {
      const choices = asObject(body)?.['choices'];
      if (!Array.isArray(choices)) return;
      for (const c of choices) {
        const m = asObject(asObject(c)?.['message']);
        if (m !== null && typeof m['content'] === 'string') m['content'] = fn(m['content']);
      }
    },
    errorEvent,
    usage: () => usage,
  };
}

/** Reader for the Responses API (JSON or typed SSE events). */
export function responsesReader(): ResponseReader {
  let usage: UsageParts | null = null;
  const last = new LastEvent();
  const outputTexts = (resp: Record<string, unknown> | null, fn?: (t: string) => string): string[] => {
    const texts: string[] = [];
    const output = resp?.['output'];
    if (!Array.isArray(output)) return texts;
    for (const item of output) {
      const content = asObject(item)?.['content'];
      if (!Array.isArray(content)) continue;
      for (const part of content) {
        const p = asObject(part);
        if (p === null || p['type'] !== 'output_text' || typeof p['text'] !== 'string') continue;
        if (fn !== undefined) p['text'] = fn(p['text']);
        texts.push(p['text'] as string);
      }
    }
    return texts;
  };
  return {
    event(ev: SseEvent) {
      const o = last.parse(ev);
      if (o === null) return NOTHING;
      const type = o['type'] ?? ev.event;
      if (type === 'response.output_text.delta' && typeof o['delta'] === 'string') return { text: o['delta'], usageOnly: false };
      if (type === 'response.completed' || type === 'response.incomplete') {
        const u = asObject(asObject(o['response'])?.['usage']);
        if (u !== null) readUsage(u, (usage ??= {}));
      }
      return NOTHING;
    },
    json(body) {
      const o = asObject(body);
      const u = asObject(o?.['usage']);
      if (u !== null) readUsage(u, (usage ??= {}));
      return outputTexts(o).join('\n');
    },
    withText(ev, text) {
      const o = last.of(ev) as Record<string, unknown>;
      o['delta'] = text;
      return `${ev.event !== null ? `event: ${ev.event}\n` : ''}data: ${JSON.stringify(o)}\n\n`;
    },
    rewriteJson(body, fn) {
      outputTexts(asObject(body), fn);
    },
    errorEvent: (message, code) => `event: error\ndata: ${JSON.stringify({ type: 'error', code, message, param: null })}\n\n`,
    usage: () => usage,
  };
}

/** Reader for embeddings (JSON only: usage, no output text). */
export function embeddingsReader(): ResponseReader {
  const r = chatReader();
  return { ...r, json: (body) => (r.json(body), '') };
}

/** Reader for legacy completions (JSON or SSE): text in `choices[].text`, usage when the answer has it. */
export function completionsReader(): ResponseReader {
  let usage: UsageParts | null = null;
  const last = new LastEvent();
  const choiceTexts = (o: Record<string, unknown> | null, fn?: (t: string) => string): string[] => {
    const out: string[] = [];
    const choices = o?.['choices'];
    if (!Array.isArray(choices)) return out;
    for (const c of choices) {
      const choice = asObject(c);
      if (choice === null || typeof choice['text'] !== 'string') continue;
      if (fn !== undefined) choice['text'] = fn(choice['text']);
      out.push(choice['text'] as string);
    }
    return out;
  };
  return {
    event(ev) {
      const o = last.parse(ev);
      if (o === null) return NOTHING;
      const u = asObject(o['usage']);
      if (u !== null) readUsage(u, (usage ??= {}));
      const first = choiceTexts(o)[0];
      return { text: first ?? null, usageOnly: false };
    },
    json(body) {
      const o = asObject(body);
      const u = asObject(o?.['usage']);
      if (u !== null) readUsage(u, (usage ??= {}));
      return choiceTexts(o).join('\n');
    },
    withText(ev, text) {
      const o = last.of(ev) as Record<string, unknown>;
      let first = true;
      choiceTexts(o, (t) => {
        const out = first ? text : t;
        first = false;
        return out;
      });
      return `data: ${JSON.stringify(o)}\n\n`;
    },
    rewriteJson(body, fn) {
      choiceTexts(asObject(body), fn);
    },
    errorEvent,
    usage: () => usage,
  };
}
