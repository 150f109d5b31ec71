/**
 * OpenAI `POST /v1/chat/completions`, JSON and SSE, as the API reference documents it: chunks are
 * `chat.completion.chunk` objects in `data:` lines, the stream ends with `data: [DONE]`, and a usage
 * chunk with `choices: []` comes only when `stream_options.include_usage` is true (every other
 * chunk then carries `"usage": null`).
 */
import { chatUsage, openaiHeaders, SYSTEM_FINGERPRINT, unixSeconds } from './openai-common.js';
import { dataEvent, randomId, sendEvents, sendJson, SSE_CONTENT_TYPE } from './respond.js';
import { answerText, contentText, fakeTokenCount, splitIntoChunks } from './text.js';
import type { Exchange } from './types.js';

interface ChatMessage {
  readonly role?: unknown;
  readonly content?: unknown;
}

/** The prompt the fake answers: the last user message's text. */
function lastUserText(messages: readonly ChatMessage[]): string {
  const user = [...messages].reverse().find((m) => m.role === 'user');
  return user ? contentText(user.content) : '';
}

/** Handles a chat completion; `modelOverride` is the Azure deployment name when routed there. */
export async function handleChatCompletions(exchange: Exchange, modelOverride?: string): Promise<void> {
  const { body, knobs } = exchange;
  const model = modelOverride ?? (typeof body.model === 'string' ? body.model : 'unknown-model');
  const messages = Array.isArray(body.messages) ? (body.messages as ChatMessage[]) : [];
  const text = knobs.text ?? answerText(model, lastUserText(messages));
  const promptTokens = fakeTokenCount(messages.map((m) => contentText(m.content)).join('\n'));
  const usage = chatUsage(promptTokens, fakeTokenCount(text), Math.min(knobs.cachedInputTokens, promptTokens));
  const id = randomId('chatcmpl-');
  const created = unixSeconds();

  if (body.stream !== true) {
    sendJson(exchange, 200, openaiHeaders('application/json'), {
      id,
      object: 'chat.completion',
      created,
      model,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: text, refusal: null, annotations: [] },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage,
      service_tier: 'default',
      system_fingerprint: SYSTEM_FINGERPRINT,
    });
    return;
  }

  const streamOptions = (body.stream_options ?? {}) as { include_usage?: unknown };
  const includeUsage = streamOptions.include_usage === true;
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}): string =>
    dataEvent({
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      service_tier: 'default',
      system_fingerprint: SYSTEM_FINGERPRINT,
      choices,
      ...(includeUsage ? { usage: null } : {}),
      ...extra,
    });
  const choice = (delta: Record<string, unknown>, finishReason: string | null): Record<string, unknown> => ({
    index: 0,
    delta,
    logprobs: null,
    finish_reason: finishReason,
  });

  const events = [
    chunk([choice({ role: 'assistant', content: '', refusal: null }, null)]),
    ...splitIntoChunks(text, knobs.chunks).map((piece) => chunk([choice({ content: piece }, null)])),
    chunk([choice({}, 'stop')]),
  ];
  if (includeUsage) events.push(chunk([], { usage }));
  events.push(dataEvent('[DONE]'));
  await sendEvents(exchange, openaiHeaders(SSE_CONTENT_TYPE), events);
}
