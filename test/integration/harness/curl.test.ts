/**
 * curl, as a command-line tool runs it, against the fake provider: JSON, unbuffered SSE, and a
 * refusal when it does not trust the provider's CA.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { curl } from '../../support/curl.js';
import { answerText, startFakeProvider, type FakeProvider } from '../../support/fake-provider.js';
import { collectSse, sseJson } from '../../support/sse.js';
import { createTestCa } from '../../support/test-ca.js';

describe('curl against the fake provider', () => {
  let provider: FakeProvider;

  beforeAll(async () => {
    provider = await startFakeProvider();
  });
  beforeEach(() => provider.reset());
  afterAll(async () => {
    await provider?.close();
  });

  it('posts a chat completion and reads status, headers and body', async () => {
    const result = await curl({
      url: 'https://api.openai.com/v1/chat/completions',
      resolve: provider.resolveMap(),
      ca: provider.ca.caPem,
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-curl' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'from curl' }] }),
    });
    expect(result.exitCode).toBe(0);
    expect(result.status).toBe(200);
    expect(result.headers['x-request-id']).toMatch(/^req_/);
    expect(JSON.parse(result.body).choices[0].message.content).toBe(answerText('gpt-4o-mini', 'from curl'));
    expect(provider.requests[0]?.headers['user-agent']).toMatch(/^curl\//);
  });

  it('streams Anthropic SSE with -N', async () => {
    const result = await curl({
      url: 'https://api.anthropic.com/v1/messages',
      resolve: provider.resolveMap(),
      ca: provider.ca.caPem,
      stream: true,
      headers: { 'content-type': 'application/json', 'x-api-key': 'sk-ant-curl', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 10, stream: true, messages: [{ role: 'user', content: 'sse' }] }),
    });
    expect(result.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    const events = sseJson<Record<string, any>>(await collectSse([Buffer.from(result.body)]));
    expect(events[0]?.type).toBe('message_start');
    expect(events[events.length - 1]?.type).toBe('message_stop');
  });

  it('refuses a provider whose CA it does not trust (exit 60)', async () => {
    const stranger = await createTestCa('Stranger CA');
    try {
      const result = await curl({ url: 'https://api.openai.com/v1/models', resolve: provider.resolveMap(), ca: stranger.caPem });
      expect(result.exitCode).toBe(60);
      expect(result.status).toBe(0);
      expect(provider.requests).toHaveLength(0);
    } finally {
      await stranger.dispose();
    }
  });
});
