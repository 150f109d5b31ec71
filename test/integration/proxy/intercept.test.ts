import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { collectSse } from '../../support/sse.js';
import { dispatcherFor, openAiClient } from '../../support/clients.js';
import { startWorld, type ProxyWorld } from './harness.js';

describe('intercepted traffic', () => {
  let world: ProxyWorld;
  beforeAll(async () => {
    world = await startWorld();
  });
  afterAll(async () => {
    await world.close();
  });

  it('forwards an SDK chat completion through the agent, adding the decision header', async () => {
    const { client, close } = openAiClient({ proxyUrl: world.engine.url, ca: world.ca.caPem, maxRetries: 0 });
    try {
      const { data, response } = await client.chat.completions
        .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello there' }] })
        .withResponse();
      expect(data.choices[0]?.message.content).toBeTruthy();
      expect(response.headers.get('x-outpost-decision')).toBe('allow');
      const seen = world.provider.requests.at(-1);
      expect(seen?.host).toBe('api.openai.com');
      expect(seen?.servername).toBe('api.openai.com');
      expect(world.engine.stats().intercepted).toBeGreaterThan(0);
    } finally {
      await close();
    }
  });

  it('keeps both sides alive: many requests reuse one client connection', async () => {
    const dispatcher = dispatcherFor({ proxyUrl: world.engine.url, ca: world.ca.caPem });
    try {
      // undici's ProxyAgent opens a second tunnel on its second request (a tunnelled https
      // server sees the same), so count CONNECTs only once the client's pool is warm.
      for (let i = 0; i < 2; i++) await (await request('https://api.openai.com/v1/models', { dispatcher })).body.text();
      const before = world.engine.stats().intercepted;
      for (let i = 0; i < 5; i++) {
        const res = await request('https://api.openai.com/v1/models', { dispatcher });
        expect(res.statusCode).toBe(200);
        await res.body.text();
      }
      expect(world.engine.stats().intercepted - before).toBe(0);
    } finally {
      await dispatcher.close();
    }
  });

  it('passes SSE events on one by one, with their spacing', async () => {
    world.provider.knobs.chunks = 20;
    world.provider.knobs.chunkDelayMs = 50;
    const dispatcher = dispatcherFor({ proxyUrl: world.engine.url, ca: world.ca.caPem });
    try {
      const res = await request('https://api.openai.com/v1/chat/completions', {
        dispatcher,
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test' },
        body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'count to twenty' }] }),
      });
      expect(res.statusCode).toBe(200);
      const capture = await collectSse(res.body);
      const deltas = capture.events.filter((e) => {
        if (e.data === '[DONE]') return false;
        const json = JSON.parse(e.data) as { choices?: Array<{ delta?: { content?: string } }> };
        return (json.choices?.[0]?.delta?.content ?? '').length > 0;
      });
      expect(deltas.length).toBe(20);
      // Each delta arrived in its own read, and the reads kept the upstream's spacing.
      expect(new Set(deltas.map((e) => e.read)).size).toBe(20);
      const gaps = deltas.slice(1).map((e, i) => e.atMs - (deltas[i]?.atMs ?? 0));
      const spaced = gaps.filter((g) => g >= 25).length;
      expect(spaced).toBeGreaterThanOrEqual(15);
    } finally {
      world.provider.reset();
      await dispatcher.close();
    }
  });
});
