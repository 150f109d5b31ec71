/**
 * Usage and cost from real (fake-provider) responses through the real engine: what the provider
 * reported is what the audit record charges; a stream that breaks is charged from the text seen,
 * marked estimated; output guardrails act on live streams.
 */
import type Anthropic from '@anthropic-ai/sdk';
import type OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { anthropicClient, fetchFor, openAiClient, type ClientHandle } from '../../support/clients.js';
import { collectSse, sseJson } from '../../support/sse.js';
import { startGatewayWorld, until, type GatewayWorld } from './world.js';

describe('usage, cost and output guardrails through the engine', () => {
  let w: GatewayWorld;
  let openai: ClientHandle<OpenAI>;
  let anthropic: ClientHandle<Anthropic>;

  beforeAll(async () => {
    w = await startGatewayWorld({ guardrails: [{ id: 'pii', type: 'pii', on: ['input', 'output'], action: 'redact' }] });
    openai = openAiClient({ proxyUrl: w.proxyUrl, ca: w.caPem, maxRetries: 0 });
    anthropic = anthropicClient({ proxyUrl: w.proxyUrl, ca: w.caPem, maxRetries: 0 });
  });
  beforeEach(() => {
    w.world.provider.reset();
    w.audit.length = 0;
  });
  afterAll(async () => {
    await openai?.close();
    await anthropic?.close();
    await w?.close();
  });

  it('Anthropic stream: input, cache writes and reads, and output are charged as reported', async () => {
    w.world.provider.knobs.cachedInputTokens = 3;
    w.world.provider.knobs.cacheCreationInputTokens = 2;
    const stream = anthropic.client.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 200, messages: [{ role: 'user', content: 'a question long enough to have some tokens in it' }] });
    const final = await stream.finalMessage();
    await until(() => w.audit.length === 1, 'the audit record');
    const u = final.usage;
    expect(w.audit[0]).toMatchObject({
      provider: 'anthropic',
      stream: true,
      inputTokens: u.input_tokens + (u.cache_creation_input_tokens ?? 0) + (u.cache_read_input_tokens ?? 0),
      outputTokens: u.output_tokens,
      cachedTokens: 3,
      tokensEstimated: false,
    });
    expect(w.audit[0]?.costUsd).toBeGreaterThan(0);
  });

  it('OpenAI Responses stream: usage from response.completed', async () => {
    const stream = await openai.client.responses.create({ model: 'gpt-4.1-mini', input: 'hello responses', stream: true });
    let usage: OpenAI.Responses.ResponseUsage | undefined;
    for await (const ev of stream) if (ev.type === 'response.completed') usage = ev.response.usage;
    await until(() => w.audit.length === 1, 'the audit record');
    expect(w.audit[0]).toMatchObject({ endpoint: 'responses', inputTokens: usage?.input_tokens, outputTokens: usage?.output_tokens, tokensEstimated: false });
  });

  it('Gemini SSE: usage from the last usageMetadata', async () => {
    const { client: fetch, close } = fetchFor({ proxyUrl: w.proxyUrl, ca: w.caPem });
    try {
      const r = await fetch('https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-goog-api-key': 'AIza-user-own' },
        body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hello gemini' }] }] }),
      });
      const events = sseJson<{ usageMetadata?: { promptTokenCount: number; candidatesTokenCount: number; thoughtsTokenCount?: number } }>(await collectSse(r.body!));
      const last = events.at(-1)!.usageMetadata!;
      await until(() => w.audit.length === 1, 'the audit record');
      expect(w.audit[0]).toMatchObject({ provider: 'gemini', model: 'gemini-2.5-flash', inputTokens: last.promptTokenCount, outputTokens: last.candidatesTokenCount + (last.thoughtsTokenCount ?? 0), tokensEstimated: false });
    } finally {
      await close();
    }
  });

  it('a stream reset by the provider midway is charged from the text seen, marked estimated', async () => {
    w.world.provider.knobs.chunks = 8;
    w.world.provider.knobs.resetAfterEvents = 4;
    const stream = await openai.client.chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'this will break' }] });
    await expect(
      (async () => {
        for await (const _ of stream) void _;
      })(),
    ).rejects.toThrow();
    await until(() => w.audit.length === 1, 'the audit record');
    expect(w.audit[0]).toMatchObject({ tokensEstimated: true, error: expect.stringMatching(/upstream failed/) });
    expect(w.audit[0]?.inputTokens).toBeGreaterThan(0);
    expect(w.audit[0]?.costUsd).toBeGreaterThan(0);
  });

  it('a client that cancels a stream is charged for what it received, marked estimated', async () => {
    w.world.provider.knobs.chunks = 6;
    w.world.provider.knobs.holdAfterEvents = 3;
    const client = openAiClient({ proxyUrl: w.proxyUrl, ca: w.caPem, maxRetries: 0 });
    try {
      const controller = new AbortController();
      const stream = await client.client.chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'I will leave early' }] }, { signal: controller.signal });
      let seen = 0;
      try {
        for await (const _ of stream) {
          void _;
          if (++seen === 2) controller.abort();
        }
      } catch {
        // The SDK may end the iteration quietly or throw on abort; either way the client left.
      }
      await until(() => w.audit.length === 1, 'the audit record');
      expect(w.audit[0]).toMatchObject({ tokensEstimated: true, error: expect.stringMatching(/client went away/) });
      expect(w.audit[0]?.outputTokens).toBeGreaterThan(0);
    } finally {
      w.world.provider.release();
      await client.close();
    }
  });

  it('redacts personal data in a live answer stream, across events', async () => {
    w.world.provider.knobs.text = 'Sure: reach Jane at jane.doe@acme.example or (415) 555-0100, any time.';
    w.world.provider.knobs.chunks = 12;
    const stream = await openai.client.chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'contact?' }] });
    let text = '';
    for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
    expect(text).toBe('Sure: reach Jane at [REDACTED:email] or [REDACTED:phone], any time.');
    await until(() => w.audit.length === 1, 'the audit record');
    expect(w.audit[0]).toMatchObject({ decision: 'redact', tokensEstimated: false });
    expect(w.audit[0]?.output).not.toContain('jane.doe');
  });
});
