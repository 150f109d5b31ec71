/**
 * Reading Bedrock runtime answers.
 * - Converse: JSON `output.message.content[].text` and `usage` (`inputTokens`, `outputTokens`,
 *   `cacheReadInputTokens`, `cacheWriteInputTokens`); ConverseStream events `contentBlockDelta`
 *   (`delta.text`) and `metadata` (`usage`).
 * - InvokeModel: the model's own JSON (Anthropic's read by the Anthropic reader; Nova's
 *   `output.message.content[].text`; others' `outputText`, `generation`, `completion`, `outputs[].text`).
 *   InvokeModelWithResponseStream's model events carry `amazon-bedrock-invocationMetrics` at the
 *   end, Bedrock's own count for every model, which wins.
 */
import { anthropicAdapter } from '../anthropic/index.js';
import { asNumber, asObject, parseObject } from '../json-walk.js';
import type { SseEvent } from '../sse.js';
import type { Endpoint, EventInfo, ResponseReader, UsageParts } from '../types.js';

const NOTHING: EventInfo = { text: null, usageOnly: false };

/** Converse usage (camelCase) or invocation metrics (`…Count`). */
function readUsage(u: Record<string, unknown>, into: UsageParts): void {
  const input = asNumber(u['inputTokens']) ?? asNumber(u['inputTokenCount']);
  const output = asNumber(u['outputTokens']) ?? asNumber(u['outputTokenCount']);
  const read = asNumber(u['cacheReadInputTokens']) ?? asNumber(u['cacheReadInputTokenCount']);
  const write = asNumber(u['cacheWriteInputTokens']) ?? asNumber(u['cacheWriteInputTokenCount']);
  if (read !== null) into.cacheReadTokens = read;
  if (write !== null) into.cacheWriteTokens = write;
  // Bedrock's inputTokens exclude cache reads and writes; ours count every input token.
  if (input !== null) into.inputTokens = input + (read ?? 0) + (write ?? 0);
  if (output !== null) into.outputTokens = output;
}

/** The texts of a Converse-shaped message (`output.message.content[]`), optionally rewritten. */
function messageTexts(o: Record<string, unknown> | null, fn?: (t: string) => string): string[] {
  const content = asObject(asObject(o?.['output'])?.['message'])?.['content'];
  const out: string[] = [];
  if (!Array.isArray(content)) return out;
  for (const raw of content) {
    const b = asObject(raw);
    if (b === null || typeof b['text'] !== 'string') continue;
    if (fn !== undefined) b['text'] = fn(b['text']);
    out.push(b['text'] as string);
  }
  return out;
}

/** Bedrock answers are not SSE; a stopped stream cannot be told so in-band here, so no error event. */
const NO_ERROR_EVENT = (): string => '';

/** Reader for Converse and ConverseStream. */
export function converseReader(): ResponseReader {
  let usage: UsageParts | null = null;
  return {
    event(ev: SseEvent) {
      const o = parseObject(ev.data);
      if (o === null) return NOTHING;
      if (ev.event === 'contentBlockDelta') {
        const text = asObject(o['delta'])?.['text'];
        return typeof text === 'string' ? { text, usageOnly: false } : NOTHING;
      }
      if (ev.event === 'metadata') {
        const u = asObject(o['usage']);
        if (u !== null) readUsage(u, (usage ??= {}));
      }
      return NOTHING;
    },
    json(body) {
      const o = asObject(body);
      const u = asObject(o?.['usage']);
      if (u !== null) readUsage(u, (usage ??= {}));
      return messageTexts(o).join('\n');
    },
    withText: (ev) => ev.raw,
    rewriteJson(body, fn) {
      messageTexts(asObject(body), fn);
    },
    errorEvent: NO_ERROR_EVENT,
    usage: () => usage,
  };
}

/** Text of another model's stream event or answer. */
function otherText(o: Record<string, unknown>): string | null {
  for (const key of ['outputText', 'generation', 'completion']) if (typeof o[key] === 'string') return o[key] as string;
  const delta = asObject(asObject(o['contentBlockDelta'])?.['delta'])?.['text'];
  if (typeof delta === 'string') return delta;
  const outputs = o['outputs'];
  const first = Array.isArray(outputs) ? asObject(outputs[0])?.['text'] : undefined;
  return typeof first === 'string' ? first : null;
}

/** Reader for InvokeModel and InvokeModelWithResponseStream of `anthropic` or another model. */
export function invokeReader(endpoint: Endpoint, anthropic: boolean): ResponseReader {
  const inner = anthropic ? anthropicAdapter.reader(endpoint) : null;
  let metrics: UsageParts | null = null;
  let own: UsageParts | null = null;
  return {
    event(ev: SseEvent) {
      const o = parseObject(ev.data);
      const m = asObject(o?.['amazon-bedrock-invocationMetrics']);
      if (m !== null) readUsage(m, (metrics ??= {}));
      if (inner !== null) return inner.event(ev);
      const text = o === null ? null : otherText(o);
      return text === null ? NOTHING : { text, usageOnly: false };
    },
    json(body) {
      if (inner !== null) return inner.json(body);
      const o = asObject(body);
      const u = asObject(o?.['usage']);
      if (u !== null) readUsage(u, (own ??= {}));
      const texts = messageTexts(o);
      return texts.length > 0 ? texts.join('\n') : (o === null ? null : otherText(o)) ?? '';
    },
    withText: (ev) => ev.raw,
    rewriteJson(body, fn) {
      if (inner !== null) inner.rewriteJson(body, fn);
      else {
        const o = asObject(body);
        messageTexts(o, fn);
        if (o !== null) for (const key of ['outputText', 'generation', 'completion']) if (typeof o[key] === 'string') o[key] = fn(o[key] as string);
      }
    },
    errorEvent: NO_ERROR_EVENT,
    usage: () => metrics ?? own ?? inner?.usage() ?? null,
  };
}
