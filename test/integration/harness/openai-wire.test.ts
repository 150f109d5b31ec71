/**
 * The fake OpenAI API speaks the documented wire format: chat completions (JSON and SSE, with the
 * usage chunk only on request), the Responses API event stream, embeddings and models, on
 * api.openai.com and the OpenAI-compatible hosts.
 */
import type { Dispatcher } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dispatcherFor, openAiClient } from '../../support/clients.js';
import { answerText, FAKE_AZURE_HOST, fakeTokenCount, startFakeProvider, type FakeProvider } from '../../support/fake-provider.js';
import { rawRequest } from '../../support/raw-request.js';
import { agentConfig } from '../../../shared/schema/config.js';
import { collectSse, sseJson } from '../../support/sse.js';

describe('fake OpenAI wire format', () => {
  let provider: FakeProvider;
  let dispatcher: Dispatcher;
  const chat = (body: unknown, host = 'api.openai.com', path = '/v1/chat/completions') =>
    rawRequest(dispatcher, `https://${host}${path}`, { json: body, headers: { authorization: 'Bearer sk-test' } });

  beforeAll(async () => {
    provider = await startFakeProvider();
    dispatcher = dispatcherFor({ resolve: provider.resolveMap(), ca: provider.ca.caPem });
  });
  beforeEach(() => provider.reset());
  afterAll(async () => {
    await dispatcher?.close();
    await provider?.close();
  });

  it('answers a chat completion as a chat.completion object with usage', async () => {
    const response = await chat({ model: 'gpt-4.1', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'ping' }] });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/json');
    expect(response.headers['x-request-id']).toMatch(/^req_[0-9a-f]{32}$/);
    const body = (await response.body.json()) as Record<string, any>;
    expect(body.id).toMatch(/^chatcmpl-/);
    expect(body.object).toBe('chat.completion');
    expect(body.model).toBe('gpt-4.1');
    expect(body.choices[0]).toEqual({
      index: 0,
      message: { role: 'assistant', content: answerText('gpt-4.1', 'ping'), refusal: null, annotations: [] },
      logprobs: null,
      finish_reason: 'stop',
    });
    expect(body.usage).toMatchObject({
      prompt_tokens: fakeTokenCount('Be brief.\nping'),
      completion_tokens: fakeTokenCount(answerText('gpt-4.1', 'ping')),
      prompt_tokens_details: { cached_tokens: 0 },
    });
  });

  it('streams chat chunks as data lines ending with [DONE], without usage unless asked', async () => {
    provider.knobs.chunks = 2;
    const response = await chat({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hello' }] });
    expect(response.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    const capture = await collectSse(response.body);
    // Every event is exactly one `data: …` line followed by a blank line.
    expect(capture.raw).toMatch(/^(data: [^\n]+\n\n)+$/);
    expect(capture.raw.endsWith('data: [DONE]\n\n')).toBe(true);
    const chunks = sseJson<Record<string, any>>(capture);
    expect(chunks).toHaveLength(4); // role, 2 deltas, finish
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && !('usage' in c))).toBe(true);
    expect(chunks[0]?.choices[0].delta).toEqual({ role: 'assistant', content: '', refusal: null });
    expect(chunks.slice(1, 3).map((c) => c.choices[0].delta.content).join('')).toBe(answerText('gpt-4o-mini', 'hello'));
    expect(chunks[3]?.choices[0]).toMatchObject({ delta: {}, finish_reason: 'stop' });
  });

  it('adds a usage chunk with empty choices before [DONE] when include_usage is set', async () => {
    provider.knobs.cachedInputTokens = 1;
    const response = await chat({
      model: 'gpt-4o-mini',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: [{ type: 'text', text: 'count me' }] }],
    });
    const chunks = sseJson<Record<string, any>>(await collectSse(response.body));
    const last = chunks[chunks.length - 1];
    expect(last?.choices).toEqual([]);
    expect(last?.usage).toMatchObject({
      prompt_tokens: fakeTokenCount('count me'),
      completion_tokens: fakeTokenCount(answerText('gpt-4o-mini', 'count me')),
      prompt_tokens_details: { cached_tokens: 1 },
    });
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
  });

  it('calls the first tool when tools are offered, streamed as tool_calls deltas the SDK assembles', async () => {
    const sdk = openAiClient({ resolve: provider.resolveMap(), ca: provider.ca.caPem, maxRetries: 0 });
    try {
      const tools = [
        {
          type: 'function' as const,
          function: { name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' }, n: { type: 'number' } } } },
        },
      ];
      const stream = sdk.client.chat.completions.stream({ model: 'gpt-4.1', tools, messages: [{ role: 'user', content: 'find it' }] });
      const completion = await stream.finalChatCompletion();
      const call = completion.choices[0]?.message.tool_calls?.[0];
      expect(completion.choices[0]?.finish_reason).toBe('tool_calls');
      expect(call?.id).toMatch(/^call_/);
      expect(call?.type === 'function' ? JSON.parse(call.function.arguments) : null).toEqual({ q: 'find it', n: 1 });
      // After the tool result, the model answers in text.
      const answer = await sdk.client.chat.completions.create({
        model: 'gpt-4.1',
        tools,
        messages: [
          { role: 'user', content: 'find it' },
          { role: 'assistant', content: null, tool_calls: completion.choices[0]?.message.tool_calls ?? [] },
          { role: 'tool', tool_call_id: call?.id ?? '', content: 'found' },
        ],
      });
      expect(answer.choices[0]?.finish_reason).toBe('stop');
      expect(answer.choices[0]?.message.content).toBe(answerText('gpt-4.1', 'find it'));
    } finally {
      await sdk.close();
    }
  });

  it('streams the Responses API as named events ending with response.completed and usage', async () => {
    provider.knobs.chunks = 3;
    const response = await rawRequest(dispatcher, 'https://api.openai.com/v1/responses', {
      json: { model: 'gpt-4.1', input: 'tell me', instructions: 'You are terse.', stream: true },
    });
    const capture = await collectSse(response.body);
    const types = capture.events.map((e) => e.event);
    expect(types).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const payloads = sseJson<Record<string, any>>(capture);
    expect(payloads.map((p) => p.type)).toEqual(types);
    expect(payloads.map((p) => p.sequence_number)).toEqual(types.map((_, i) => i));
    expect(capture.raw).not.toContain('[DONE]');
    const text = answerText('gpt-4.1', 'tell me');
    expect(payloads.filter((p) => p.type === 'response.output_text.delta').map((p) => p.delta).join('')).toBe(text);
    const completed = payloads[payloads.length - 1]?.response;
    expect(completed.id).toMatch(/^resp_/);
    expect(completed.status).toBe('completed');
    expect(completed.output[0].content[0].text).toBe(text);
    expect(completed.usage).toMatchObject({
      input_tokens: fakeTokenCount('You are terse.\ntell me'),
      output_tokens: fakeTokenCount(text),
      total_tokens: fakeTokenCount('You are terse.\ntell me') + fakeTokenCount(text),
    });
    expect(payloads[0]?.response.usage).toBeNull();
  });

  it('answers a Responses API request as a response object', async () => {
    const response = await rawRequest(dispatcher, 'https://api.openai.com/v1/responses', {
      json: { model: 'gpt-4.1', input: [{ role: 'user', content: [{ type: 'input_text', text: 'hi' }] }] },
    });
    const body = (await response.body.json()) as Record<string, any>;
    expect(body).toMatchObject({ object: 'response', status: 'completed', model: 'gpt-4.1' });
    expect(body.output[0]).toMatchObject({ type: 'message', role: 'assistant', id: expect.stringMatching(/^msg_/) });
    expect(body.output[0].content[0]).toMatchObject({ type: 'output_text', text: answerText('gpt-4.1', 'hi') });
  });

  it('embeds deterministically, as floats or as base64 float32', async () => {
    const floats = (await (
      await rawRequest(dispatcher, 'https://api.openai.com/v1/embeddings', {
        json: { model: 'text-embedding-3-small', input: ['alpha', 'beta'], dimensions: 8 },
      })
    ).body.json()) as Record<string, any>;
    expect(floats.object).toBe('list');
    expect(floats.data.map((d: any) => [d.object, d.index, d.embedding.length])).toEqual([
      ['embedding', 0, 8],
      ['embedding', 1, 8],
    ]);
    const tokens = fakeTokenCount('alpha') + fakeTokenCount('beta');
    expect(floats.usage).toEqual({ prompt_tokens: tokens, total_tokens: tokens });
    const base64 = (await (
      await rawRequest(dispatcher, 'https://api.openai.com/v1/embeddings', {
        json: { model: 'text-embedding-3-small', input: 'alpha', dimensions: 8, encoding_format: 'base64' },
      })
    ).body.json()) as Record<string, any>;
    const bytes = Buffer.from(base64.data[0].embedding as string, 'base64');
    const decoded = Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4));
    expect(decoded).toEqual(floats.data[0].embedding);
  });

  it('lists models', async () => {
    const body = (await (await rawRequest(dispatcher, 'https://api.openai.com/v1/models')).body.json()) as Record<string, any>;
    expect(body.object).toBe('list');
    expect(body.data[0]).toMatchObject({ object: 'model', owned_by: 'system' });
  });

  it('serves OpenAI-compatible hosts and Azure deployments, recording each request', async () => {
    const mistral = (await (await chat({ model: 'mistral-small', messages: [{ role: 'user', content: 'a' }] }, 'api.mistral.ai')).body.json()) as Record<string, any>;
    expect(mistral.model).toBe('mistral-small');
    const openrouter = await chat({ model: 'x', messages: [] }, 'openrouter.ai', '/api/v1/chat/completions');
    expect(openrouter.statusCode).toBe(200);
    await openrouter.body.dump();
    const azure = (await (
      await chat({ messages: [{ role: 'user', content: 'b' }] }, FAKE_AZURE_HOST, '/openai/deployments/my-gpt/chat/completions?api-version=2024-10-21')
    ).body.json()) as Record<string, any>;
    expect(azure.model).toBe('my-gpt');
    expect(provider.requests.map((r) => [r.host, r.path])).toEqual([
      ['api.mistral.ai', '/v1/chat/completions'],
      ['openrouter.ai', '/api/v1/chat/completions'],
      [FAKE_AZURE_HOST, '/openai/deployments/my-gpt/chat/completions?api-version=2024-10-21'],
    ]);
    expect(provider.requests[0]?.json).toEqual({ model: 'mistral-small', messages: [{ role: 'user', content: 'a' }] });
    expect(provider.requests[0]?.headers.authorization).toBe('Bearer sk-test');
  });

  it('gives a resolve map the agent config accepts as upstream.resolve', () => {
    const config = agentConfig.parse({ upstream: { resolve: provider.resolveMap(), caFile: provider.ca.caFile } });
    expect(config.upstream.resolve).toEqual(provider.resolveMap());
    expect(Object.values(provider.resolveMap())).toEqual(Object.values(provider.resolveMap()).map(() => provider.address));
  });

  it('answers an unknown path with a 404 in the OpenAI error shape', async () => {
    const response = await rawRequest(dispatcher, 'https://api.openai.com/v1/nope', { json: {} });
    expect(response.statusCode).toBe(404);
    expect(await response.body.json()).toEqual({
      error: { message: 'Unknown route POST /v1/nope.', type: 'invalid_request_error', param: null, code: 'model_not_found' },
    });
  });
});
