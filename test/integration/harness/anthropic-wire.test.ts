/**
 * The fake Anthropic API speaks the documented Messages wire format (event order, usage split
 * between message_start and a cumulative message_delta, tool_use as input_json_delta, cache
 * fields), and the official Anthropic SDK reads it.
 */
import type Anthropic from '@anthropic-ai/sdk';
import type { Dispatcher } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { anthropicClient, dispatcherFor, type ClientHandle } from '../../support/clients.js';
import { answerText, fakeTokenCount, startFakeProvider, type FakeProvider } from '../../support/fake-provider.js';
import { rawRequest } from '../../support/raw-request.js';
import { collectSse, sseJson } from '../../support/sse.js';

const weatherTool = {
  name: 'get_weather',
  description: 'Weather for a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } }, required: ['city'] },
};

describe('fake Anthropic wire format', () => {
  let provider: FakeProvider;
  let dispatcher: Dispatcher;
  let sdk: ClientHandle<Anthropic>;
  const messages = (body: Record<string, unknown>) =>
    rawRequest(dispatcher, 'https://api.anthropic.com/v1/messages', {
      json: { model: 'claude-sonnet-4-5', max_tokens: 256, ...body },
      headers: { 'x-api-key': 'sk-ant-test', 'anthropic-version': '2023-06-01' },
    });

  beforeAll(async () => {
    provider = await startFakeProvider();
    dispatcher = dispatcherFor({ resolve: provider.resolveMap(), ca: provider.ca.caPem });
    sdk = anthropicClient({ resolve: provider.resolveMap(), ca: provider.ca.caPem, maxRetries: 0 });
  });
  beforeEach(() => provider.reset());
  afterAll(async () => {
    await sdk?.close();
    await dispatcher?.close();
    await provider?.close();
  });

  it('answers a message with text, stop reason and usage including cache fields', async () => {
    provider.knobs.cachedInputTokens = 2;
    const response = await messages({ system: 'Be kind.', messages: [{ role: 'user', content: 'hello there' }] });
    expect(response.statusCode).toBe(200);
    expect(response.headers['request-id']).toMatch(/^req_/);
    const body = (await response.body.json()) as Record<string, any>;
    const promptTokens = fakeTokenCount('Be kind.\nhello there');
    expect(body).toMatchObject({
      id: expect.stringMatching(/^msg_/),
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5',
      content: [{ type: 'text', text: answerText('claude-sonnet-4-5', 'hello there') }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: {
        input_tokens: promptTokens - 2,
        cache_read_input_tokens: 2,
        cache_creation_input_tokens: 0,
        output_tokens: fakeTokenCount(answerText('claude-sonnet-4-5', 'hello there')),
      },
    });
  });

  it('streams events in the documented order with cumulative usage in message_delta', async () => {
    provider.knobs.chunks = 2;
    provider.knobs.cacheCreationInputTokens = 1;
    const response = await messages({ stream: true, messages: [{ role: 'user', content: [{ type: 'text', text: 'stream it' }] }] });
    expect(response.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    const capture = await collectSse(response.body);
    expect(capture.raw).toMatch(/^(event: [a-z_]+\ndata: [^\n]+\n\n)+$/);
    expect(capture.events.map((e) => e.event)).toEqual([
      'message_start',
      'content_block_start',
      'ping',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    const events = sseJson<Record<string, any>>(capture);
    expect(events.map((e) => e.type)).toEqual(capture.events.map((e) => e.event));
    const text = answerText('claude-sonnet-4-5', 'stream it');
    const promptTokens = fakeTokenCount('stream it');
    expect(events[0]?.message.usage).toMatchObject({ input_tokens: promptTokens - 1, cache_creation_input_tokens: 1, output_tokens: 1 });
    expect(events.filter((e) => e.type === 'content_block_delta').map((e) => e.delta.text).join('')).toBe(text);
    expect(events[6]).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: {
        input_tokens: promptTokens - 1,
        cache_creation_input_tokens: 1,
        cache_read_input_tokens: 0,
        output_tokens: fakeTokenCount(text),
      },
    });
  });

  it('streams a tool_use block as input_json_delta pieces when tools are offered', async () => {
    const response = await messages({ stream: true, tools: [weatherTool], messages: [{ role: 'user', content: 'Paris' }] });
    const events = sseJson<Record<string, any>>(await collectSse(response.body));
    const start = events.find((e) => e.type === 'content_block_start' && e.index === 1);
    expect(start?.content_block).toMatchObject({ type: 'tool_use', id: expect.stringMatching(/^toolu_/), name: 'get_weather', input: {} });
    const json = events
      .filter((e) => e.type === 'content_block_delta' && e.index === 1)
      .map((e) => {
        expect(e.delta.type).toBe('input_json_delta');
        return e.delta.partial_json as string;
      })
      .join('');
    expect(JSON.parse(json)).toEqual({ city: 'Paris', days: 1 });
    expect(events.find((e) => e.type === 'message_delta')?.delta.stop_reason).toBe('tool_use');
  });

  it('is read by the Anthropic SDK: a streamed message and a tool call round trip', async () => {
    const stream = sdk.client.messages.stream({
      model: 'claude-haiku-4-5',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'via sdk' }],
    });
    const final = await stream.finalMessage();
    expect(final.content).toHaveLength(1);
    expect(final.content[0]).toMatchObject({ type: 'text', text: answerText('claude-haiku-4-5', 'via sdk') });
    expect(final.usage.output_tokens).toBe(fakeTokenCount(answerText('claude-haiku-4-5', 'via sdk')));

    const first = await sdk.client.messages.create({
      model: 'claude-haiku-4-5',
      max_tokens: 100,
      tools: [weatherTool] as Anthropic.Tool[],
      messages: [{ role: 'user', content: 'Oslo' }],
    });
    const toolUse = first.content.find((block): block is Anthropic.ToolUseBlock => block.type === 'tool_use');
    expect(toolUse?.input).toEqual({ city: 'Oslo', days: 1 });
    const second = await sdk.client.messages.create({
      model: 'claude-haiku-4-5',
      max_tokens: 100,
      tools: [weatherTool] as Anthropic.Tool[],
      messages: [
        { role: 'user', content: 'Oslo' },
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: toolUse?.id ?? '', content: 'sunny' }] },
      ],
    });
    expect(second.stop_reason).toBe('end_turn');
  });

  it('counts tokens', async () => {
    const result = await sdk.client.messages.countTokens({ model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'count' }] });
    expect(result.input_tokens).toBe(fakeTokenCount('count'));
  });
});
