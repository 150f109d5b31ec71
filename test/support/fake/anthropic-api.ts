/**
 * Anthropic `POST /v1/messages` (JSON and SSE) and `POST /v1/messages/count_tokens`, as the API
 * reference documents them. Streamed: `message_start` (input usage), per block
 * `content_block_start` / `content_block_delta` / `content_block_stop`, a `ping`, `message_delta`
 * (stop reason and cumulative usage) and `message_stop`. When the request offers tools (and the
 * last user turn is not a tool result), the answer ends with a `tool_use` block for the first tool,
 * streamed as `input_json_delta` pieces, and `stop_reason: "tool_use"`.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import { namedEvent, randomId, sendEvents, sendJson, SSE_CONTENT_TYPE } from './respond.js';
import { answerText, contentText, fakeTokenCount, fakeToolArguments, splitIntoChunks } from './text.js';
import type { ErrorKnob, Exchange, FakeApi, FakeKnobs } from './types.js';

interface Message {
  readonly role?: unknown;
  readonly content?: unknown;
}

interface Tool {
  readonly name?: unknown;
  readonly input_schema?: { readonly properties?: Record<string, { readonly type?: unknown }> };
}

function anthropicHeaders(contentType: string): OutgoingHttpHeaders {
  return {
    'content-type': contentType,
    'request-id': randomId('req_', 12),
    'anthropic-organization-id': '00000000-0000-4000-8000-0000000000aa',
    'anthropic-ratelimit-requests-limit': '4000',
    'anthropic-ratelimit-requests-remaining': '3999',
    'anthropic-ratelimit-input-tokens-limit': '400000',
    'anthropic-ratelimit-input-tokens-remaining': '399000',
    'anthropic-ratelimit-output-tokens-limit': '80000',
    'anthropic-ratelimit-output-tokens-remaining': '79000',
  };
}

/** `error.type` by status (Anthropic's "HTTP errors" table). */
function errorType(status: number): string {
  const types: Record<number, string> = {
    400: 'invalid_request_error',
    401: 'authentication_error',
    402: 'billing_error',
    403: 'permission_error',
    404: 'not_found_error',
    413: 'request_too_large',
    429: 'rate_limit_error',
    529: 'overloaded_error',
  };
  return types[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
}

/** Writes an error in Anthropic's shape. */
export function sendAnthropicError(exchange: Exchange, error: ErrorKnob): void {
  const headers = anthropicHeaders('application/json');
  if (error.retryAfterSeconds !== undefined) headers['retry-after'] = String(error.retryAfterSeconds);
  sendJson(exchange, error.status, headers, {
    type: 'error',
    error: { type: error.type ?? errorType(error.status), message: error.message ?? `Fake provider error ${error.status}.` },
    request_id: headers['request-id'],
  });
}

function systemText(system: unknown): string {
  return typeof system === 'string' ? system : contentText(system);
}

function isToolResultTurn(message: Message | undefined): boolean {
  return Array.isArray(message?.content) && (message.content as Array<{ type?: unknown }>).some((b) => b.type === 'tool_result');
}

/** Usage with the cache fields; `input_tokens` excludes cached tokens, as the API counts them. */
function usageOf(knobs: FakeKnobs, promptTokens: number, outputTokens: number): Record<string, unknown> {
  const cacheRead = Math.min(knobs.cachedInputTokens, promptTokens);
  const cacheCreation = Math.min(knobs.cacheCreationInputTokens, promptTokens - cacheRead);
  return {
    input_tokens: promptTokens - cacheRead - cacheCreation,
    cache_creation_input_tokens: cacheCreation,
    cache_read_input_tokens: cacheRead,
    cache_creation: { ephemeral_5m_input_tokens: cacheCreation, ephemeral_1h_input_tokens: 0 },
    output_tokens: outputTokens,
    service_tier: 'standard',
  };
}

function countInput(body: Record<string, unknown>, messages: readonly Message[]): number {
  return fakeTokenCount([systemText(body.system), ...messages.map((m) => contentText(m.content))].join('\n'));
}

/** Answers a Messages request; `pathModel` names the model where the path does (Vertex AI, Bedrock). */
export async function handleMessages(exchange: Exchange, pathModel?: string): Promise<void> {
  const { body, knobs } = exchange;
  const model = pathModel ?? (typeof body.model === 'string' ? body.model : 'unknown-model');
  const messages = Array.isArray(body.messages) ? (body.messages as Message[]) : [];
  const lastUser = [...messages].reverse().find((m) => m.role === 'user');
  const prompt = lastUser ? contentText(lastUser.content) : '';
  const text = knobs.text ?? answerText(model, prompt);
  const tools = Array.isArray(body.tools) ? (body.tools as Tool[]) : [];
  const tool = tools.length > 0 && !isToolResultTurn(messages[messages.length - 1]) ? tools[0] : undefined;
  const toolUse = tool
    ? { type: 'tool_use', id: randomId('toolu_', 12), name: String(tool.name ?? 'tool'), input: fakeToolArguments(tool.input_schema?.properties, prompt) }
    : undefined;
  const toolJson = toolUse ? JSON.stringify(toolUse.input) : '';
  const promptTokens = countInput(body, messages);
  const outputTokens = fakeTokenCount(text) + (toolUse ? fakeTokenCount(toolJson) : 0);
  const stopReason = toolUse ? 'tool_use' : 'end_turn';
  const id = randomId('msg_', 12);
  const headers = anthropicHeaders(body.stream === true ? SSE_CONTENT_TYPE : 'application/json');

  if (body.stream !== true) {
    sendJson(exchange, 200, headers, {
      id,
      type: 'message',
      role: 'assistant',
      model,
      content: [{ type: 'text', text }, ...(toolUse ? [toolUse] : [])],
      stop_reason: stopReason,
      stop_sequence: null,
      usage: usageOf(knobs, promptTokens, outputTokens),
    });
    return;
  }

  const event = (type: string, fields: Record<string, unknown> = {}): string => namedEvent(type, { type, ...fields });
  const { service_tier: _tier, cache_creation: _cache, ...deltaUsage } = usageOf(knobs, promptTokens, outputTokens);
  const events = [
    event('message_start', {
      message: {
        id,
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: usageOf(knobs, promptTokens, 1),
      },
    }),
    event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
    event('ping'),
    ...splitIntoChunks(text, knobs.chunks).map((piece) =>
      event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: piece } }),
    ),
    event('content_block_stop', { index: 0 }),
  ];
  if (toolUse) {
    events.push(
      event('content_block_start', { index: 1, content_block: { ...toolUse, input: {} } }),
      ...['', ...splitIntoChunks(toolJson, knobs.chunks)].map((partial) =>
        event('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: partial } }),
      ),
      event('content_block_stop', { index: 1 }),
    );
  }
  events.push(
    event('message_delta', { delta: { stop_reason: stopReason, stop_sequence: null }, usage: deltaUsage }),
    event('message_stop'),
  );
  const streamError = event('error', { error: { type: 'overloaded_error', message: 'Overloaded' } });
  await sendEvents(exchange, headers, events, streamError);
}

function handleCountTokens(exchange: Exchange): void {
  const messages = Array.isArray(exchange.body.messages) ? (exchange.body.messages as Message[]) : [];
  sendJson(exchange, 200, anthropicHeaders('application/json'), { input_tokens: countInput(exchange.body, messages) });
}

/** The Anthropic API on api.anthropic.com. */
export const anthropicApi: FakeApi = {
  name: 'anthropic',
  routes: [
    { method: 'POST', pattern: /^\/v1\/messages$/, handle: (ex) => handleMessages(ex) },
    { method: 'POST', pattern: /^\/v1\/messages\/count_tokens$/, handle: handleCountTokens },
  ],
  sendError: sendAnthropicError,
  apiKeyOf: ({ req }) => {
    const key = req.headers['x-api-key'];
    return typeof key === 'string' ? key : /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
  },
  authError: (presented) => ({
    status: 401,
    type: 'authentication_error',
    message: presented ? 'invalid x-api-key' : 'x-api-key header is required',
  }),
};
