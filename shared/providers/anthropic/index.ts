/**
 * Anthropic messages (`POST /v1/messages`). Prompt text: `system`, and each message's text blocks,
 * tool-use inputs and tool results. Streams report input usage (cache writes and reads too) in
 * `message_start` and cumulative output usage in `message_delta`.
 */
import { anthropicError } from '../errors.js';
import { asNumber, asObject, collect, LastEvent, replace, walkStrings, type TextVisit } from '../json-walk.js';
import type { SseEvent } from '../sse.js';
import type { CustomHostAdapter, EventInfo, ResponseReader, UsageParts } from '../types.js';

function visitBlocks(content: unknown, fn: (t: string) => string | undefined, note: (w: string) => void): unknown {
  if (typeof content === 'string') return fn(content) ?? content;
  if (!Array.isArray(content)) return content;
  for (const raw of content) {
    const b = asObject(raw);
    if (b === null) continue;
    switch (b['type']) {
      case 'text':
        if (typeof b['text'] === 'string') b['text'] = fn(b['text']) ?? b['text'];
        break;
      case 'tool_use':
        b['input'] = walkStrings(b['input'], fn);
        break;
      case 'tool_result':
        b['content'] = visitBlocks(b['content'], fn, note);
        break;
      case 'thinking':
      case 'redacted_thinking':
        break; // the model's own reasoning, sent back verbatim and signed: not user input
      default:
        if (typeof b['type'] === 'string') note(b['type']);
    }
  }
  return content;
}

/** Where prompt text lives in a Messages request: `system`, then every message's blocks. */
export const visitMessages: TextVisit = (body, fn, note) => {
  if ('system' in body) body['system'] = visitBlocks(body['system'], fn, note);
  const messages = body['messages'];
  if (!Array.isArray(messages)) return;
  for (const raw of messages) {
    const m = asObject(raw);
    if (m !== null) m['content'] = visitBlocks(m['content'], fn, note);
  }
};

const NOTHING: EventInfo = { text: null, usageOnly: false };

function readUsage(u: Record<string, unknown>, into: UsageParts): void {
  const input = asNumber(u['input_tokens']);
  const write = asNumber(u['cache_creation_input_tokens']);
  const read = asNumber(u['cache_read_input_tokens']);
  const output = asNumber(u['output_tokens']);
  if (write !== null) into.cacheWriteTokens = write;
  if (read !== null) into.cacheReadTokens = read;
  // Anthropic's input_tokens excludes cache writes and reads; ours counts every input token.
  if (input !== null) into.inputTokens = input + (into.cacheWriteTokens ?? 0) + (into.cacheReadTokens ?? 0);
  if (output !== null) into.outputTokens = output;
}

function reader(): ResponseReader {
  let usage: UsageParts | null = null;
  const last = new LastEvent();
  return {
    event(ev: SseEvent) {
      const type = ev.event;
      if (type !== 'content_block_delta' && type !== 'message_start' && type !== 'message_delta') return NOTHING;
      const o = last.parse(ev);
      if (o === null) return NOTHING;
      if (type === 'content_block_delta') {
        const d = asObject(o['delta']);
        return d !== null && d['type'] === 'text_delta' && typeof d['text'] === 'string' ? { text: d['text'], usageOnly: false } : NOTHING;
      }
      const u = type === 'message_start' ? asObject(asObject(o['message'])?.['usage']) : asObject(o['usage']);
      if (u !== null) readUsage(u, (usage ??= {}));
      return NOTHING;
    },
    json(body) {
      const o = asObject(body);
      const u = asObject(o?.['usage']);
      if (u !== null) readUsage(u, (usage ??= {}));
      const content = o?.['content'];
      if (!Array.isArray(content)) return '';
      return content.map((b) => asObject(b)?.['text']).filter((t): t is string => typeof t === 'string').join('\n');
    },
    withText(ev, text) {
      const o = last.of(ev) as Record<string, unknown>;
      (asObject(o['delta']) as Record<string, unknown>)['text'] = text;
      return `event: content_block_delta\ndata: ${JSON.stringify(o)}\n\n`;
    },
    rewriteJson(body, fn) {
      const content = asObject(body)?.['content'];
      if (!Array.isArray(content)) return;
      for (const raw of content) {
        const b = asObject(raw);
        if (b !== null && b['type'] === 'text' && typeof b['text'] === 'string') b['text'] = fn(b['text']);
      }
    },
    errorEvent: (message) => `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'permission_error', message } })}\n\n`,
    usage: () => usage,
  };
}

/** The Anthropic messages adapter. */
export const anthropicAdapter: CustomHostAdapter = {
  id: 'anthropic',
  match(host, method, path) {
    if (host !== 'api.anthropic.com' || method !== 'POST') return null;
    return path === '/v1/messages' ? { adapter: anthropicAdapter, provider: 'anthropic', api: 'messages', pathModel: null, pathStream: false } : null;
  },
  // A company's Anthropic-compatible gateway may serve the API under a prefix (`/anthropic/v1/messages`).
  matchCustom(provider, method, path) {
    if (method !== 'POST' || !path.endsWith('/v1/messages')) return null;
    return { adapter: anthropicAdapter, provider, api: 'messages', pathModel: null, pathStream: false };
  },
  parse(_endpoint, body) {
    const o = asObject(body) ?? {};
    const { texts, chars, notes } = collect(visitMessages, o);
    return { model: typeof o['model'] === 'string' ? o['model'] : null, stream: o['stream'] === true, texts, promptChars: chars, notes, maxOutputTokens: asNumber(o['max_tokens']) };
  },
  rewriteTexts(_endpoint, body, texts) {
    const o = asObject(body);
    if (o !== null) replace(visitMessages, o, texts);
  },
  prepare: () => false,
  reader: () => reader(),
  credential: (_endpoint, key) => ['x-api-key', key],
  error: anthropicError,
};
