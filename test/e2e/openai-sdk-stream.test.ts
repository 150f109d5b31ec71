/**
 * The official OpenAI SDK streams a chat completion over real TLS from the fake provider, trusting
 * only the test CA, with api.openai.com mapped to loopback (the path the agent will sit on).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAiClient, type ClientHandle } from '../support/clients.js';
import { answerText, fakeTokenCount, startFakeProvider, type FakeProvider } from '../support/fake-provider.js';
import type OpenAI from 'openai';

describe('the OpenAI SDK against the fake provider', () => {
  let provider: FakeProvider;
  let sdk: ClientHandle<OpenAI>;

  beforeAll(async () => {
    provider = await startFakeProvider();
    sdk = openAiClient({ resolve: provider.resolveMap(), ca: provider.ca.caPem, maxRetries: 0 });
  });
  afterAll(async () => {
    await sdk?.close();
    await provider?.close();
  });

  it('streams a chat completion whose text and usage match the prompt', async () => {
    provider.reset();
    provider.knobs.chunks = 4;
    const prompt = 'Say hello to the outpost';
    const stream = await sdk.client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: prompt }],
      stream: true,
      stream_options: { include_usage: true },
    });

    const deltas: string[] = [];
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      expect(chunk.object).toBe('chat.completion.chunk');
      expect(chunk.id).toMatch(/^chatcmpl-/);
      const delta = chunk.choices[0]?.delta.content;
      if (delta) deltas.push(delta);
      if (chunk.usage) usage = chunk.usage;
    }

    const expected = answerText('gpt-4o-mini', prompt);
    expect(deltas).toHaveLength(4);
    expect(deltas.join('')).toBe(expected);
    expect(usage).toMatchObject({
      prompt_tokens: fakeTokenCount(prompt),
      completion_tokens: fakeTokenCount(expected),
      total_tokens: fakeTokenCount(prompt) + fakeTokenCount(expected),
    });

    const [request] = provider.requests;
    expect(request?.host).toBe('api.openai.com');
    expect(request?.servername).toBe('api.openai.com');
    expect(request?.headers.authorization).toBe('Bearer sk-test-outpost');
  });

  it('streams a Responses API answer and reads its final usage', async () => {
    provider.reset();
    const stream = sdk.client.responses.stream({ model: 'gpt-4.1', input: 'responses please' });
    let deltas = '';
    stream.on('response.output_text.delta', (event) => {
      deltas += event.delta;
    });
    const final = await stream.finalResponse();
    const expected = answerText('gpt-4.1', 'responses please');
    expect(deltas).toBe(expected);
    expect(final.output_text).toBe(expected);
    expect(final.usage?.output_tokens).toBe(fakeTokenCount(expected));
  });

  it('embeds through the SDK, which asks for base64 and decodes it', async () => {
    provider.reset();
    const result = await sdk.client.embeddings.create({ model: 'text-embedding-3-small', input: 'vector me' });
    expect(provider.requests[0]?.json).toMatchObject({ encoding_format: 'base64' });
    const vector = result.data[0]?.embedding ?? [];
    expect(vector).toHaveLength(1536);
    expect(Math.hypot(...vector)).toBeCloseTo(1, 5);
  });

  it('refuses the fake provider when the client trusts another CA', async () => {
    const { createTestCa } = await import('../support/test-ca.js');
    const stranger = await createTestCa('Unrelated CA');
    const untrusting = openAiClient({ resolve: provider.resolveMap(), ca: stranger.caPem, maxRetries: 0 });
    try {
      await expect(
        untrusting.client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
      ).rejects.toThrow(/Connection error/);
    } finally {
      await untrusting.close();
      await stranger.dispose();
    }
  });
});
