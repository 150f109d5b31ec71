/**
 * The client helpers' proxy route (`proxyUrl`): the OpenAI SDK, undici fetch and curl reach the
 * fake provider through an HTTP CONNECT proxy, naming the real host, and a host the proxy does not
 * tunnel fails.
 */
import type OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fetchFor, openAiClient, type ClientHandle } from '../../support/clients.js';
import { curl } from '../../support/curl.js';
import { answerText, startFakeProvider, type FakeProvider } from '../../support/fake-provider.js';
import { collectSse, sseJson } from '../../support/sse.js';
import { startTunnelProxy, type TunnelProxy } from '../../support/tunnel-proxy.js';

describe('clients through an HTTP proxy', () => {
  let provider: FakeProvider;
  let proxy: TunnelProxy;
  let sdk: ClientHandle<OpenAI>;

  beforeAll(async () => {
    provider = await startFakeProvider();
    proxy = await startTunnelProxy(provider.resolveMap());
    sdk = openAiClient({ proxyUrl: proxy.url, ca: provider.ca.caPem, maxRetries: 0 });
  });
  beforeEach(() => {
    provider.reset();
    proxy.connects.length = 0;
  });
  afterAll(async () => {
    await sdk?.close();
    await proxy?.close();
    await provider?.close();
  });

  it('streams with the OpenAI SDK through CONNECT api.openai.com:443', async () => {
    const stream = await sdk.client.chat.completions.create({
      model: 'gpt-4o-mini',
      stream: true,
      messages: [{ role: 'user', content: 'via proxy' }],
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe(answerText('gpt-4o-mini', 'via proxy'));
    expect(proxy.connects).toEqual(['api.openai.com:443']);
    expect(provider.requests[0]?.servername).toBe('api.openai.com');
  });

  it('fetches Gemini SSE with undici fetch through the proxy', async () => {
    const { client: fetch, close } = fetchFor({ proxyUrl: proxy.url, ca: provider.ca.caPem });
    try {
      const response = await fetch(
        'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse',
        { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ contents: [{ parts: [{ text: 'g' }] }] }) },
      );
      expect(response.status).toBe(200);
      const chunks = sseJson<Record<string, any>>(await collectSse(response.body!));
      expect(chunks[chunks.length - 1]?.candidates[0].finishReason).toBe('STOP');
    } finally {
      await close();
    }
  });

  it('runs curl with --proxy', async () => {
    const result = await curl({ url: 'https://api.mistral.ai/v1/models', proxyUrl: proxy.url, ca: provider.ca.caPem });
    expect(result.exitCode).toBe(0);
    expect(result.status).toBe(200);
    expect(proxy.connects).toEqual(['api.mistral.ai:443']);
  });

  it('fails when the proxy refuses the host', async () => {
    const result = await curl({ url: 'https://not-an-ai-host.test/', proxyUrl: proxy.url, ca: provider.ca.caPem });
    expect(result.exitCode).not.toBe(0);
    expect(provider.requests).toHaveLength(0);
  });
});
