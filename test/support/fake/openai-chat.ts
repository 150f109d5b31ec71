/**
 * OpenAI `POST /v1/chat/completions`, JSON and SSE, as the API reference documents it: chunks are
 * `chat.completion.chunk` objects in `data:` lines, the stream ends with `data: [DONE]`, and a usage
 * chunk with `choices: []` comes only when `stream_options.include_usage` is true (every other
 * chunk then carries `"usage": null`). When the request offers tools and the last message is not a
 * tool result, the answer is a call of the first tool (`finish_reason: "tool_calls"`), streamed as
 * `tool_calls` deltas whose `function.arguments` pieces join into JSON.
 */
import { chatUsage, openaiHeaders, SYSTEM_FINGERPRINT, unixSeconds } from './openai-common.js';
import { dataEvent, randomId, sendEvents, sendJson, SSE_CONTENT_TYPE } from './respond.js';
import { answerText, contentText, fakeTokenCount, fakeToolArguments, splitIntoChunks, type SchemaProperties } from './text.js';
import type { Exchange } from './types.js';

interface ChatMessage {
  readonly role?: unknown;
  readonly content?: unknown;
}

interface ChatTool {
  readonly function?: { readonly name?: unknown; readonly parameters?: { readonly properties?: SchemaProperties } };
}

interface ToolCall {
  readonly id: string;
  readonly name: string;
  readonly arguments: string;
}

/** The prompt the fake answers: the last user message's text. */
function lastUserText(messages: readonly ChatMessage[]): string {
  const user = [...messages].reverse().find((m) => m.role === 'user');
  return user ? contentText(user.content) : '';
}

function toolCallFor(body: Record<string, unknown>, messages: readonly ChatMessage[], prompt: string): ToolCall | undefined {
  const tools = Array.isArray(body.tools) ? (body.tools as ChatTool[]) : [];
  const tool = tools[0];
  if (!tool || messages[messages.length - 1]?.role === 'tool') return undefined;
  return {
    id: randomId('call_', 12),
    name: String(tool.function?.name ?? 'tool'),
    arguments: JSON.stringify(fakeToolArguments(tool.function?.parameters?.properties, prompt)),
  };
}

/** Handles a chat completion; `modelOverride` is the Azure deployment name when routed there. */
export async function handleChatCompletions(exchange: Exchange, modelOverride?: string): Promise<void> {
  const { body, knobs } = exchange;
  const model = modelOverride ?? (typeof body.model === 'string' ? body.model : 'unknown-model');
  const messages = Array.isArray(body.messages) ? (body.messages as ChatMessage[]) : [];
  const prompt = lastUserText(messages);
  const call = toolCallFor(body, messages, prompt);
  const text = call ? null : (knobs.text ?? answerText(model, prompt));
  const promptTokens = fakeTokenCount(messages.map((m) => contentText(m.content)).join('\n'));
  const completionTokens = fakeTokenCount(text ?? call?.arguments ?? '');
  const usage = chatUsage(promptTokens, completionTokens, Math.min(knobs.cachedInputTokens, promptTokens));
  const finishReason = call ? 'tool_calls' : 'stop';
  const id = randomId('chatcmpl-');
  const created = unixSeconds();

  if (body.stream !== true) {
    const toolCalls = call ? { tool_calls: [{ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } }] } : {};
    sendJson(exchange, 200, openaiHeaders('application/json'), {
      id,
      object: 'chat.completion',
      created,
      model,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: text, refusal: null, annotations: [], ...toolCalls },
          logprobs: null,
          finish_reason: finishReason,
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
  const choice = (delta: Record<string, unknown>, finish: string | null): Record<string, unknown> => ({
    index: 0,
    delta,
    logprobs: null,
    finish_reason: finish,
  });

  const deltas = call
    ? [
        chunk([
          choice(
            {
              role: 'assistant',
              content: null,
              tool_calls: [{ index: 0, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }],
              refusal: null,
            },
            null,
          ),
        ]),
        ...splitIntoChunks(call.arguments, knobs.chunks).map((piece) =>
          chunk([choice({ tool_calls: [{ index: 0, function: { arguments: piece } }] }, null)]),
        ),
      ]
    : [
        chunk([choice({ role: 'assistant', content: '', refusal: null }, null)]),
        ...splitIntoChunks(text ?? '', knobs.chunks).map((piece) => chunk([choice({ content: piece }, null)])),
      ];
  const events = [...deltas, chunk([choice({}, finishReason)])];
  if (includeUsage) events.push(chunk([], { usage }));
  events.push(dataEvent('[DONE]'));
  const streamError = dataEvent({ error: { message: 'The server had an error while processing your request.', type: 'server_error', param: null, code: null } });
  await sendEvents(exchange, openaiHeaders(SSE_CONTENT_TYPE), events, streamError);
}
