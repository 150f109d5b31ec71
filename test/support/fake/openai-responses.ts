/**
 * OpenAI `POST /v1/responses`, JSON and SSE. Streamed, it emits named events (`event: <type>`
 * then `data: {…, "type": <type>, "sequence_number": n}`) from `response.created` to
 * `response.completed`, which carries the full response with `usage`; there is no `[DONE]`.
 */
import { openaiHeaders, unixSeconds } from './openai-common.js';
import { namedEvent, randomId, sendEvents, sendJson, SSE_CONTENT_TYPE } from './respond.js';
import { answerText, contentText, fakeTokenCount, splitIntoChunks } from './text.js';
import type { Exchange } from './types.js';

interface InputItem {
  readonly role?: unknown;
  readonly content?: unknown;
}

/** All input text (for the token count) and the last user text (for the answer). */
function readInput(input: unknown, instructions: unknown): { all: string; prompt: string } {
  const prefix = typeof instructions === 'string' ? [instructions] : [];
  if (typeof input === 'string') return { all: [...prefix, input].join('\n'), prompt: input };
  const items = Array.isArray(input) ? (input as InputItem[]) : [];
  const user = [...items].reverse().find((item) => item.role === 'user');
  return {
    all: [...prefix, ...items.map((item) => contentText(item.content))].join('\n'),
    prompt: user ? contentText(user.content) : '',
  };
}

/** Handles a Responses API request. */
export async function handleResponses(exchange: Exchange): Promise<void> {
  const { body, knobs } = exchange;
  const model = typeof body.model === 'string' ? body.model : 'unknown-model';
  const { all, prompt } = readInput(body.input, body.instructions);
  const text = knobs.text ?? answerText(model, prompt);
  const inputTokens = fakeTokenCount(all);
  const outputTokens = fakeTokenCount(text);
  const responseId = randomId('resp_', 24);
  const itemId = randomId('msg_', 24);
  const createdAt = unixSeconds();

  const usage = {
    input_tokens: inputTokens,
    input_tokens_details: { cached_tokens: Math.min(knobs.cachedInputTokens, inputTokens) },
    output_tokens: outputTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: inputTokens + outputTokens,
  };
  const part = (partText: string): Record<string, unknown> => ({
    type: 'output_text',
    annotations: [],
    logprobs: [],
    text: partText,
  });
  const message = (status: string, content: unknown[]): Record<string, unknown> => ({
    id: itemId,
    type: 'message',
    status,
    content,
    role: 'assistant',
  });
  const response = (status: string, output: unknown[], finalUsage: unknown): Record<string, unknown> => ({
    id: responseId,
    object: 'response',
    created_at: createdAt,
    status,
    background: false,
    error: null,
    incomplete_details: null,
    instructions: typeof body.instructions === 'string' ? body.instructions : null,
    max_output_tokens: typeof body.max_output_tokens === 'number' ? body.max_output_tokens : null,
    model,
    output,
    parallel_tool_calls: true,
    previous_response_id: typeof body.previous_response_id === 'string' ? body.previous_response_id : null,
    reasoning: { effort: null, summary: null },
    service_tier: 'default',
    store: body.store !== false,
    temperature: 1.0,
    text: { format: { type: 'text' }, verbosity: 'medium' },
    tool_choice: 'auto',
    tools: [],
    top_p: 1.0,
    truncation: 'disabled',
    usage: finalUsage,
    user: null,
    metadata: {},
  });
  const completed = response('completed', [message('completed', [part(text)])], usage);

  if (body.stream !== true) {
    sendJson(exchange, 200, openaiHeaders('application/json'), completed);
    return;
  }

  let sequence = 0;
  const event = (type: string, fields: Record<string, unknown>): string =>
    namedEvent(type, { type, sequence_number: sequence++, ...fields });
  const at = { item_id: itemId, output_index: 0, content_index: 0 };
  const events = [
    event('response.created', { response: response('in_progress', [], null) }),
    event('response.in_progress', { response: response('in_progress', [], null) }),
    event('response.output_item.added', { output_index: 0, item: message('in_progress', []) }),
    event('response.content_part.added', { ...at, part: part('') }),
    ...splitIntoChunks(text, knobs.chunks).map((delta) => event('response.output_text.delta', { ...at, delta, logprobs: [] })),
    event('response.output_text.done', { ...at, text, logprobs: [] }),
    event('response.content_part.done', { ...at, part: part(text) }),
    event('response.output_item.done', { output_index: 0, item: message('completed', [part(text)]) }),
    event('response.completed', { response: completed }),
  ];
  const streamError = namedEvent('error', {
    type: 'error',
    code: 'server_error',
    message: 'The server had an error while processing your request.',
    param: null,
    sequence_number: exchange.knobs.streamErrorAfterEvents ?? 0,
  });
  await sendEvents(exchange, openaiHeaders(SSE_CONTENT_TYPE), events, streamError);
}
