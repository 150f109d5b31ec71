/**
 * HTTP/2 to providers (issue 18.2): the engine offers h2 beside http/1.1 (undici `allowH2`) and the
 * provider chooses. A provider that speaks h2 gets h2, many requests share one pooled connection,
 * streams pass event by event, and `upstream.resolve` holds (the corporate proxy: upstream.test.ts);
 * a provider that speaks only HTTP/1.1 still gets HTTP/1.1.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { dispatcherFor } from '../../support/clients.js';
import { connectFrame } from '../../support/fake/coding-agents.js';
import { h2Answer, h2Request, h2Through } from '../../support/h2-client.js';
import { startWorld, type ProxyWorld } from './harness.js';

const CHAT_URL = 'https://api.openai.com/v1/chat/completions';

function chat(content: string, stream = false): string {
  return JSON.stringify({ model: 'gpt-4o-mini', stream, messages: [{ role: 'user', content }] });
}

describe('HTTP/2 to an h2 provider', () => {
  let world: ProxyWorld;
  beforeAll(async () => {
    world = await startWorld({ providerHttp2: true, upstreamHttp2: true });
  });
  beforeEach(() => world.provider.reset());
  afterAll(async () => {
    await world.close();
  });

  it('an HTTP/1.1 client is answered over an h2 upstream connection', async () => {
    const dispatcher = dispatcherFor({ proxyUrl: world.engine.url, ca: world.ca.caPem });
    try {
      const res = await request(CHAT_URL, { dispatcher, method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test' }, body: chat('hello h2 upstream') });
      expect(res.statusCode).toBe(200);
      expect(res.headers['x-outpost-decision']).toBe('allow');
      expect(((await res.body.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]?.message.content).toContain('hello h2 upstream');
      const seen = world.provider.requests.at(-1);
      expect(seen?.httpVersion).toBe('2.0');
      expect(seen?.servername).toBe('api.openai.com');
    } finally {
      await dispatcher.close();
    }
  });

  it('requests in flight at once share one pooled h2 connection', async () => {
    world.provider.knobs.chunks = 3;
    world.provider.knobs.holdAfterEvents = 1;
    const session = await h2Through(world.engine.url, 'api.openai.com', world.ca.caPem);
    try {
      // All 16 streams are open upstream at the same time (each holds after its first event).
      const streams = Array.from({ length: 16 }, (_, i) => {
        const s = session.request({ ':method': 'POST', ':path': '/v1/chat/completions', 'content-type': 'application/json', authorization: 'Bearer sk-test' });
        s.end(chat(`parallel ${i}`, true));
        return s;
      });
      await Promise.all(streams.map((s) => new Promise((resolve) => s.once('data', resolve))));
      const rests = streams.map((s) => h2Answer(s));
      world.provider.release();
      for (const a of await Promise.all(rests)) expect(a.body.toString()).toContain('[DONE]');
      const seen = world.provider.requests;
      expect(seen).toHaveLength(16);
      expect(seen.every((r) => r.httpVersion === '2.0')).toBe(true);
      expect(new Set(seen.map((r) => r.remotePort)).size).toBe(1);
    } finally {
      session.close();
    }
  });

  it('a stream passes event by event over h2 on both sides', async () => {
    world.provider.knobs.chunks = 5;
    world.provider.knobs.holdAfterEvents = 2;
    const session = await h2Through(world.engine.url, 'api.openai.com', world.ca.caPem);
    try {
      const s = session.request({ ':method': 'POST', ':path': '/v1/chat/completions', 'content-type': 'application/json', authorization: 'Bearer sk-test' });
      s.end(chat('stream it', true));
      let text = '';
      await new Promise<void>((resolve) => {
        const onData = (c: Buffer): void => {
          text += c.toString();
          if ((text.match(/^data: /gm) ?? []).length >= 2) {
            s.off('data', onData);
            resolve();
          }
        };
        s.on('data', onData);
      });
      expect(text).not.toContain('[DONE]');
      const rest = h2Answer(s);
      world.provider.release();
      expect((await rest).body.toString()).toContain('data: [DONE]');
      expect(world.provider.requests.at(-1)?.httpVersion).toBe('2.0');
    } finally {
      session.close();
    }
  });
});

describe('a Connect stream over HTTP/1.1 (Cursor with HTTP/2 off)', () => {
  let world: ProxyWorld;
  beforeAll(async () => {
    world = await startWorld({ hosts: ['api2.cursor.sh'] });
  });
  afterAll(async () => {
    await world.close();
  });

  it('streams the body upstream unread, keeping its content-length and bytes', async () => {
    const dispatcher = dispatcherFor({ proxyUrl: world.engine.url, ca: world.ca.caPem });
    const body = connectFrame(0, Buffer.from([0x0a, 0x02, 0x68, 0x69]));
    try {
      const res = await request('https://api2.cursor.sh/aiserver.v1.ChatService/StreamUnifiedChatWithTools', { dispatcher, method: 'POST', headers: { 'content-type': 'application/connect+proto', 'content-length': String(body.length) }, body });
      expect(res.statusCode).toBe(200);
      expect((await res.body.arrayBuffer()).byteLength).toBeGreaterThan(0);
      const seen = world.provider.requests.at(-1);
      expect(seen?.headers['content-length']).toBe(String(body.length));
      expect(seen?.headers['transfer-encoding']).toBeUndefined();
      expect(seen?.body.equals(body)).toBe(true);
    } finally {
      await dispatcher.close();
    }
  });
});

describe('the default upstream protocol', () => {
  let world: ProxyWorld;
  beforeAll(async () => {
    world = await startWorld({ providerHttp2: true });
  });
  afterAll(async () => {
    await world.close();
  });

  it('offers providers HTTP/1.1 only unless upstream.http2 is on (the faster in the bench), even to an h2 client', async () => {
    const session = await h2Through(world.engine.url, 'api.openai.com', world.ca.caPem);
    try {
      expect((await h2Request(session, { ':method': 'GET', ':path': '/v1/models' })).status).toBe(200);
      expect(world.provider.requests.at(-1)?.httpVersion).toBe('1.1');
    } finally {
      session.close();
    }
  });
});

describe('HTTP/2 offered to an HTTP/1.1-only provider', () => {
  let h1: ProxyWorld;
  beforeAll(async () => {
    h1 = await startWorld({ upstreamHttp2: true });
  });
  afterAll(async () => {
    await h1.close();
  });

  it('falls back to HTTP/1.1 when the provider offers only that', async () => {
    const session = await h2Through(h1.engine.url, 'api.openai.com', h1.ca.caPem);
    try {
      expect((await h2Request(session, { ':method': 'GET', ':path': '/v1/models' })).status).toBe(200);
      expect(h1.provider.requests.at(-1)?.httpVersion).toBe('1.1');
    } finally {
      session.close();
    }
  });
});
