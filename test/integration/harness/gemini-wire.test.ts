/**
 * The fake Gemini API speaks the documented format: generateContent with usageMetadata, and
 * streamGenerateContent as SSE (`?alt=sse`, CRLF framing, running usage totals) or as a JSON array.
 */
import type { Dispatcher } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dispatcherFor } from '../../support/clients.js';
import { answerText, fakeTokenCount, startFakeProvider, type FakeProvider } from '../../support/fake-provider.js';
import { rawRequest } from '../../support/raw-request.js';
import { collectSse, sseJson } from '../../support/sse.js';

const BASE = 'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash';

describe('fake Gemini wire format', () => {
  let provider: FakeProvider;
  let dispatcher: Dispatcher;
  const request = {
    systemInstruction: { parts: [{ text: 'Reply briefly.' }] },
    contents: [{ role: 'user', parts: [{ text: 'what is up' }] }],
  };

  beforeAll(async () => {
    provider = await startFakeProvider();
    dispatcher = dispatcherFor({ resolve: provider.resolveMap(), ca: provider.ca.caPem });
  });
  beforeEach(() => provider.reset());
  afterAll(async () => {
    await dispatcher?.close();
    await provider?.close();
  });

  it('answers generateContent with a model candidate and usageMetadata', async () => {
    const response = await rawRequest(dispatcher, `${BASE}:generateContent`, { json: request, headers: { 'x-goog-api-key': 'AIza-test' } });
    expect(response.statusCode).toBe(200);
    const body = (await response.body.json()) as Record<string, any>;
    const text = answerText('gemini-2.5-flash', 'what is up');
    const promptTokens = fakeTokenCount('Reply briefly.\nwhat is up');
    expect(body.candidates).toEqual([{ content: { parts: [{ text }], role: 'model' }, finishReason: 'STOP', index: 0 }]);
    expect(body.usageMetadata).toMatchObject({
      promptTokenCount: promptTokens,
      candidatesTokenCount: fakeTokenCount(text),
      totalTokenCount: promptTokens + fakeTokenCount(text),
    });
    expect(body.modelVersion).toBe('gemini-2.5-flash');
    expect(provider.requests[0]?.headers['x-goog-api-key']).toBe('AIza-test');
  });

  it('streams SSE with CRLF framing and running usage totals, the last chunk finishing', async () => {
    provider.knobs.chunks = 3;
    provider.knobs.cachedInputTokens = 2;
    const response = await rawRequest(dispatcher, `${BASE}:streamGenerateContent?alt=sse`, { json: request });
    expect(response.headers['content-type']).toBe('text/event-stream');
    const capture = await collectSse(response.body);
    expect(capture.raw).toMatch(/^(data: [^\r\n]+\r\n\r\n)+$/);
    const chunks = sseJson<Record<string, any>>(capture);
    expect(chunks).toHaveLength(3);
    const text = answerText('gemini-2.5-flash', 'what is up');
    expect(chunks.map((c) => c.candidates[0].content.parts[0].text).join('')).toBe(text);
    const totals = chunks.map((c) => c.usageMetadata.candidatesTokenCount as number);
    expect(totals).toEqual([...totals].sort((a, b) => a - b));
    expect(totals[2]).toBe(fakeTokenCount(text));
    expect(chunks.map((c) => c.candidates[0].finishReason)).toEqual([undefined, undefined, 'STOP']);
    expect(chunks[2]?.usageMetadata.cachedContentTokenCount).toBe(2);
    expect(new Set(chunks.map((c) => c.responseId)).size).toBe(1);
  });

  it('streams a JSON array without alt=sse', async () => {
    provider.knobs.chunks = 2;
    const response = await rawRequest(dispatcher, `${BASE}:streamGenerateContent`, { json: request });
    expect(response.headers['content-type']).toBe('application/json; charset=UTF-8');
    const chunks = (await response.body.json()) as Array<Record<string, any>>;
    expect(chunks.map((c) => c.candidates[0].content.parts[0].text).join('')).toBe(answerText('gemini-2.5-flash', 'what is up'));
  });

  it('counts tokens', async () => {
    const response = await rawRequest(dispatcher, `${BASE}:countTokens`, { json: { contents: request.contents } });
    expect(((await response.body.json()) as Record<string, any>).totalTokens).toBe(fakeTokenCount('what is up'));
  });

  it('answers errors in the Gemini shape', async () => {
    provider.knobs.error = { status: 429 };
    const response = await rawRequest(dispatcher, `${BASE}:generateContent`, { json: request });
    expect(response.statusCode).toBe(429);
    expect(await response.body.json()).toEqual({
      error: { code: 429, message: 'Fake provider error 429.', status: 'RESOURCE_EXHAUSTED' },
    });
  });
});
