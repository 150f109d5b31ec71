/**
 * The fake provider's knobs do what tests rely on: errors in each provider's shape that SDKs
 * surface (and retry, when told to fail only once), a connection reset mid-stream that clients
 * see as an error, spaced events, a stream held until released, a slow start and a custom text.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import type { Dispatcher } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { performance } from 'node:perf_hooks';
import { anthropicClient, dispatcherFor, openAiClient, type ClientHandle } from '../../support/clients.js';
import { startFakeProvider, type FakeProvider } from '../../support/fake-provider.js';
import { rawRequest } from '../../support/raw-request.js';
import { collectSse } from '../../support/sse.js';

/** Node timers can fire up to a millisecond early against performance.now(). */
const TIMER_SLACK_MS = 2;

describe('fake provider knobs', () => {
  let provider: FakeProvider;
  let openai: ClientHandle<OpenAI>;
  let anthropic: ClientHandle<Anthropic>;
  let dispatcher: Dispatcher;
  const streamChat = () =>
    rawRequest(dispatcher, 'https://api.openai.com/v1/chat/completions', {
      json: { model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'knobs' }] },
    });

  beforeAll(async () => {
    provider = await startFakeProvider();
    const route = { resolve: provider.resolveMap(), ca: provider.ca.caPem, maxRetries: 0 };
    openai = openAiClient(route);
    anthropic = anthropicClient(route);
    dispatcher = dispatcherFor(route);
  });
  beforeEach(() => provider.reset());
  afterAll(async () => {
    await Promise.all([openai?.close(), anthropic?.close(), dispatcher?.close()]);
    await provider?.close();
  });

  it('fails with an OpenAI-shaped error that the OpenAI SDK surfaces', async () => {
    provider.knobs.error = { status: 401, message: 'Incorrect API key provided.' };
    const error = await openai.client.models.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(error).toMatchObject({ status: 401, code: 'invalid_api_key', type: 'invalid_request_error' });
    expect((error as Error).message).toContain('Incorrect API key provided.');
  });

  it('fails with an Anthropic-shaped error that the Anthropic SDK surfaces', async () => {
    provider.knobs.error = { status: 529 };
    const error = await anthropic.client.messages
      .create({ model: 'claude-haiku-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect((error as InstanceType<typeof Anthropic.APIError>).status).toBe(529);
    expect((error as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({
      type: 'error',
      error: { type: 'overloaded_error', message: 'Fake provider error 529.' },
    });
  });

  it('fails only `count` times, so an SDK that retries succeeds', async () => {
    provider.knobs.error = { status: 429, count: 1, retryAfterSeconds: 1 };
    const retrying = openAiClient({ resolve: provider.resolveMap(), ca: provider.ca.caPem, maxRetries: 1 });
    try {
      const completion = await retrying.client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'again' }],
      });
      expect(completion.object).toBe('chat.completion');
      expect(provider.requests).toHaveLength(2);
    } finally {
      await retrying.close();
    }
  });

  it('resets the connection mid-stream, and the OpenAI SDK stream throws after the first deltas', async () => {
    provider.knobs.chunks = 4;
    provider.knobs.resetAfterEvents = 3; // role chunk + 2 deltas, then the reset
    const stream = await openai.client.chat.completions.create({
      model: 'gpt-4o-mini',
      stream: true,
      messages: [{ role: 'user', content: 'reset me' }],
    });
    const deltas: string[] = [];
    const consume = async () => {
      for await (const chunk of stream) {
        const delta = chunk.choices[0]?.delta.content;
        if (delta) deltas.push(delta);
      }
    };
    await expect(consume()).rejects.toThrow();
    expect(deltas).toHaveLength(2);
  });

  it('resets with a real TCP RST: a raw reader gets ECONNRESET after the first events', async () => {
    provider.knobs.resetAfterEvents = 2;
    const response = await streamChat();
    const received: string[] = [];
    const read = collectSse(response.body, (event) => {
      received.push(event.data);
    });
    await expect(read).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(received).toHaveLength(2);
  });

  it('resets the connection mid-stream, and the Anthropic SDK stream rejects', async () => {
    provider.knobs.resetAfterEvents = 4;
    const stream = anthropic.client.messages.stream({
      model: 'claude-haiku-4-5',
      max_tokens: 20,
      messages: [{ role: 'user', content: 'reset' }],
    });
    await expect(stream.finalMessage()).rejects.toThrow();
  });

  it('sends an in-stream error event that both SDKs raise as an API error', async () => {
    provider.knobs.streamErrorAfterEvents = 2;
    const openaiStream = await openai.client.chat.completions.create({
      model: 'gpt-4o-mini',
      stream: true,
      messages: [{ role: 'user', content: 'fail later' }],
    });
    const drain = async (iterable: AsyncIterable<unknown>) => {
      for await (const _ of iterable);
    };
    await expect(drain(openaiStream)).rejects.toBeInstanceOf(OpenAI.APIError);
    const anthropicStream = anthropic.client.messages.stream({
      model: 'claude-haiku-4-5',
      max_tokens: 20,
      messages: [{ role: 'user', content: 'fail later' }],
    });
    const error = await anthropicStream.finalMessage().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect((error as Error).message).toContain('overloaded_error');
  });

  it('checks the provider key where each provider expects it, when apiKey is set', async () => {
    provider.knobs.apiKey = 'sk-real-key';
    const wrong = await openai.client.models.list().catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((wrong as Error).message).toContain('Incorrect API key provided: sk-***post.');
    const right = openAiClient({ resolve: provider.resolveMap(), ca: provider.ca.caPem, apiKey: 'sk-real-key', maxRetries: 0 });
    try {
      expect((await right.client.models.list()).data.length).toBeGreaterThan(0);
    } finally {
      await right.close();
    }
    await expect(
      anthropic.client.messages.create({ model: 'claude-haiku-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'k' }] }),
    ).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
    const gemini = (key: string) =>
      rawRequest(dispatcher, `https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent?key=${key}`, {
        json: { contents: [{ parts: [{ text: 'k' }] }] },
      });
    const bad = await gemini('AIza-wrong');
    expect(bad.statusCode).toBe(400);
    await bad.body.dump();
    const good = await gemini('sk-real-key');
    expect(good.statusCode).toBe(200);
    await good.body.dump();
  });

  it('applies per-host knobs to one provider only', async () => {
    provider.hostKnobs['api.openai.com'] = { error: { status: 503 } };
    await expect(openai.client.models.list()).rejects.toMatchObject({ status: 503 });
    const message = await anthropic.client.messages.create({
      model: 'claude-haiku-4-5',
      max_tokens: 5,
      messages: [{ role: 'user', content: 'still fine' }],
    });
    expect(message.stop_reason).toBe('end_turn');
  });

  it('spaces events by chunkDelayMs, so they arrive in separate reads', async () => {
    provider.knobs.chunks = 3;
    provider.knobs.chunkDelayMs = 30;
    const started = performance.now();
    const capture = await collectSse((await streamChat()).body);
    const events = capture.events.length; // role, 3 deltas, finish, [DONE]
    expect(events).toBe(6);
    // The server waited 30 ms before each event after the first: a lower bound that holds on
    // any machine, however loaded (less TIMER_SLACK_MS: timers round to whole milliseconds).
    expect(capture.events[events - 1]!.atMs - started).toBeGreaterThanOrEqual((events - 1) * 30 - TIMER_SLACK_MS);
    expect(capture.reads.length).toBeGreaterThan(1);
  });

  it('holds a stream after N events until release(): the client has those events first', async () => {
    provider.knobs.holdAfterEvents = 2;
    const seenBeforeRelease: number[] = [];
    const response = await streamChat();
    const capture = await collectSse(response.body, (event) => {
      // The server cannot send event 3 until release(), so reaching 2 events here proves the
      // first two were delivered on their own, not buffered until the end.
      if (seenBeforeRelease.length < 2) {
        seenBeforeRelease.push(event.atMs);
        if (seenBeforeRelease.length === 2) provider.release();
      }
    });
    expect(seenBeforeRelease).toHaveLength(2);
    expect(capture.raw.endsWith('data: [DONE]\n\n')).toBe(true);
  });

  it('delays the response headers by headerDelayMs (a slow start)', async () => {
    provider.knobs.headerDelayMs = 150;
    const started = performance.now();
    const response = await rawRequest(dispatcher, 'https://api.openai.com/v1/models');
    expect(performance.now() - started).toBeGreaterThanOrEqual(150 - TIMER_SLACK_MS);
    await response.body.dump();
  });

  it('answers with a custom text', async () => {
    provider.knobs.text = 'fixed answer';
    const completion = await openai.client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'q' }] });
    expect(completion.choices[0]?.message.content).toBe('fixed answer');
  });
});
