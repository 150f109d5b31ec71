/**
 * HTTP/2 between the client and the agent (issue 18.1): ALPN offers h2 beside http/1.1 on
 * intercepted hosts, and an h2 stream runs the same exchange as an HTTP/1.1 request: the decision
 * header, streams passed on unbuffered, body limits, many streams on one connection, one stream's
 * reset leaving the others alone. Real TLS through the real engine; curl, Node's http2 and Chromium.
 */
import http2 from 'node:http2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { curl } from '../../support/curl.js';
import { h2Answer, h2Request, h2Through } from '../../support/h2-client.js';
import { launchChromium } from '../../support/chromium.js';
import { startGatewayWorld, type GatewayWorld } from '../core/world.js';
import { startWorld, until, type ProxyWorld } from './harness.js';

const CHAT = { ':method': 'POST', ':path': '/v1/chat/completions', 'content-type': 'application/json', authorization: 'Bearer sk-test' };

function chat(content: string, stream = false): string {
  return JSON.stringify({ model: 'gpt-4o-mini', stream, messages: [{ role: 'user', content }] });
}

describe('HTTP/2 from the client', () => {
  let world: ProxyWorld;
  beforeAll(async () => {
    world = await startWorld({ maxBodyBytes: 64 * 1024 });
  });
  beforeEach(() => world.provider.reset());
  afterAll(async () => {
    await world.close();
  });

  it('curl --http2 negotiates h2 and gets the governed answer with its decision header', async () => {
    const res = await curl({ url: 'https://api.openai.com/v1/chat/completions', proxyUrl: world.engine.url, ca: world.ca.caPem, http2: true, headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test' }, body: chat('hello over h2') });
    expect(res.stderr).toBe('');
    expect(res.version).toBe('HTTP/2');
    expect(res.status).toBe(200);
    expect(res.headers['x-outpost-decision']).toBe('allow');
    expect(JSON.parse(res.body).choices[0].message.content).toContain('hello over h2');
    const seen = world.provider.requests.at(-1);
    expect(seen?.host).toBe('api.openai.com');
    // Upstream got an HTTP/1.1-shaped request: no pseudo-header leaked into the fields.
    expect(Object.keys(seen?.headers ?? {}).some((name) => name.startsWith(':'))).toBe(false);
  });

  it('curl --http1.1 still gets HTTP/1.1 on the same engine', async () => {
    const res = await curl({ url: 'https://api.openai.com/v1/models', proxyUrl: world.engine.url, ca: world.ca.caPem });
    expect(res.version).toBe('HTTP/1.1');
    expect(res.status).toBe(200);
  });

  it("Node's http2 client: many concurrent streams on one connection, each answered in full", async () => {
    const session = await h2Through(world.engine.url, 'api.openai.com', world.ca.caPem);
    try {
      const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => h2Request(session, CHAT, chat(`stream number ${i}`))));
      answers.forEach((a, i) => {
        expect(a.status).toBe(200);
        expect(a.headers['x-outpost-decision']).toBe('allow');
        expect(JSON.parse(a.body.toString()).choices[0].message.content).toContain(`stream number ${i}`);
      });
      expect(world.engine.stats().intercepted).toBeGreaterThan(0);
    } finally {
      session.close();
    }
  });

  it('passes a stream on event by event: the first events arrive while upstream still holds the rest', async () => {
    world.provider.knobs.chunks = 6;
    world.provider.knobs.holdAfterEvents = 2;
    const session = await h2Through(world.engine.url, 'api.openai.com', world.ca.caPem);
    try {
      const stream = session.request(CHAT);
      stream.end(chat('stream please', true));
      const first = await new Promise<string>((resolve) => {
        let text = '';
        const onData = (c: Buffer): void => {
          text += c.toString();
          if ((text.match(/^data: /gm) ?? []).length >= 2) {
            stream.off('data', onData);
            resolve(text);
          }
        };
        stream.on('data', onData);
      });
      expect(first).toContain('data: ');
      // Nothing past the held point has been sent by upstream yet: the proxy did not wait for it.
      expect(first).not.toContain('[DONE]');
      const rest = h2Answer(stream);
      world.provider.release();
      const answer = await rest;
      expect(`${first}${answer.body.toString()}`).toContain('data: [DONE]');
    } finally {
      session.close();
    }
  });

  it('a reset stream leaves the other streams on its connection alone', async () => {
    world.provider.knobs.chunks = 4;
    world.provider.knobs.holdAfterEvents = 1;
    const session = await h2Through(world.engine.url, 'api.openai.com', world.ca.caPem);
    try {
      const streams = Array.from({ length: 3 }, (_, i) => {
        const s = session.request(CHAT);
        s.end(chat(`held ${i}`, true));
        return s;
      });
      // Each stream has its head and first event: all three are open upstream.
      await Promise.all(streams.map((s) => new Promise((resolve) => s.once('data', resolve))));
      const [victim, ...others] = streams as [http2.ClientHttp2Stream, ...http2.ClientHttp2Stream[]];
      const rests = others.map((s) => h2Answer(s));
      const closed = new Promise((resolve) => victim.once('close', resolve));
      victim.close(http2.constants.NGHTTP2_CANCEL);
      await closed;
      world.provider.release();
      const answers = await Promise.all(rests);
      for (const a of answers) expect(a.body.toString()).toContain('data: [DONE]');
      // The connection is still good for a new stream.
      expect((await h2Request(session, { ':method': 'GET', ':path': '/v1/models' })).status).toBe(200);
    } finally {
      session.close();
    }
  });

  it("respects a client's small flow-control window: a large stream arrives whole, event by event", async () => {
    world.provider.knobs.text = 'abcdefghij'.repeat(50_000);
    world.provider.knobs.chunks = 100;
    // A 4 KiB window: the engine may send only that much before each WINDOW_UPDATE.
    const session = await h2Through(world.engine.url, 'api.openai.com', world.ca.caPem, { settings: { initialWindowSize: 4096 } });
    try {
      const answer = await h2Request(session, CHAT, chat('a long answer please', true));
      expect(answer.status).toBe(200);
      const text = answer.body
        .toString()
        .split('\n')
        .filter((l) => l.startsWith('data: {'))
        .map((l) => (JSON.parse(l.slice(6)) as { choices: Array<{ delta: { content?: string } }> }).choices[0]?.delta.content ?? '')
        .join('');
      expect(text).toContain('abcdefghij'.repeat(50_000));
      expect(answer.body.toString()).toContain('data: [DONE]');
    } finally {
      session.close();
    }
  });

  it('a client that stops reading pauses upstream (flow control), and gets every byte once it reads again', async () => {
    world.provider.knobs.text = 'klmnopqrst'.repeat(100_000);
    world.provider.knobs.chunks = 200;
    const paused = world.engine.stats().paused;
    const session = await h2Through(world.engine.url, 'api.openai.com', world.ca.caPem, { settings: { initialWindowSize: 4096 } });
    try {
      const stream = session.request(CHAT);
      stream.end(chat('a long answer, read later', true));
      // Nothing is read: the client's 4 KiB window closes, the stream's buffer fills, the engine pauses upstream.
      stream.pause();
      // Listening does not resume a stream paused explicitly: nothing is read until resume().
      const reading = h2Answer(stream);
      await until(() => world.engine.stats().paused > paused, 'the engine to pause upstream for this client');
      stream.resume();
      const answer = await reading;
      expect(answer.status).toBe(200);
      const text = answer.body
        .toString()
        .split('\n')
        .filter((l) => l.startsWith('data: {'))
        .map((l) => (JSON.parse(l.slice(6)) as { choices: Array<{ delta: { content?: string } }> }).choices[0]?.delta.content ?? '')
        .join('');
      expect(text).toContain('klmnopqrst'.repeat(100_000));
    } finally {
      session.close();
    }
  });

  it('a body over the limit is refused with 413 and the stream is ended, not the connection', async () => {
    const session = await h2Through(world.engine.url, 'api.openai.com', world.ca.caPem);
    try {
      const big = await h2Request(session, CHAT, Buffer.alloc(200 * 1024, 'a'));
      expect(big.status).toBe(413);
      expect(world.provider.requests).toHaveLength(0);
      const small = await h2Request(session, CHAT, chat('after the big one'));
      expect(small.status).toBe(200);
    } finally {
      session.close();
    }
  });

  it('a gate answer written for HTTP/1.1 (connection: close) reaches an h2 client', async () => {
    const session = await h2Through(world.engine.url, 'api.openai.com', world.ca.caPem);
    try {
      // A Host other than the connection's, naming a blocked host: refused by the engine with a 403 that carries `connection: close`.
      const res = await h2Request(session, { ':method': 'GET', ':path': '/v1/models', ':authority': 'api.deepseek.com' });
      expect(res.status).toBe(403);
      expect(res.body.toString()).toContain('api.deepseek.com');
    } finally {
      session.close();
    }
  });

  it('refuses a CONNECT stream inside the intercepted connection (a tunnel past the gate)', async () => {
    // Node's HTTP/2 server answers 405 itself while it has no 'connect' listener; the engine adds none.
    const session = await h2Through(world.engine.url, 'api.openai.com', world.ca.caPem);
    try {
      const stream = session.request({ ':method': 'CONNECT', ':authority': 'elsewhere.example:443' });
      const status = await new Promise<number>((resolve, reject) => stream.once('response', (h) => resolve(Number(h[':status']))).once('error', reject));
      expect(status).toBe(405);
      stream.close();
      expect(world.provider.requests).toHaveLength(0);
    } finally {
      session.close();
    }
  });

  it('Chromium negotiates h2 with the agent', async () => {
    const browser = await launchChromium({ proxyUrl: world.engine.url, caFiles: [world.ca.caFile] });
    try {
      const page = await browser.browser.newPage();
      const res = await page.goto('https://api.openai.com/v1/models');
      expect(res?.status()).toBe(200);
      const protocol = await page.evaluate<string>('performance.getEntriesByType("navigation")[0].nextHopProtocol');
      expect(protocol).toBe('h2');
      expect(await res?.headerValue('x-outpost-decision')).toBe('allow');
    } finally {
      await browser.close();
    }
  });
});

describe('HTTP/2 through the real gate', () => {
  let w: GatewayWorld;
  beforeAll(async () => {
    w = await startGatewayWorld(
      {
        guardrails: [{ id: 'secrets', type: 'secrets', action: 'block' }],
        virtualKeys: [
          { id: 'vk-eng', key: 'ovk-eng-4f9c2a7e1b', owner: 'team:engineering', providerKeys: { openai: 'keychain:openai-eng' } },
          { id: 'vk-broke', key: 'ovk-broke-00000000', owner: 'user:bob@acme.example', budget: { limitUsd: 0.0001, period: '1d' }, providerKeys: { anthropic: 'keychain:anthropic-eng' } },
        ],
      },
      { 'keychain:openai-eng': 'sk-real-openai-key', 'keychain:anthropic-eng': 'sk-ant-real-key' },
    );
  });
  beforeEach(() => {
    w.world.provider.reset();
    w.audit.length = 0;
  });
  afterAll(async () => w?.close());

  it('swaps a virtual key for the real one over h2: the provider sees only the real key', async () => {
    const session = await h2Through(w.proxyUrl, 'api.openai.com', w.caPem);
    try {
      const res = await h2Request(session, { ...CHAT, authorization: 'Bearer ovk-eng-4f9c2a7e1b' }, chat('hello with a virtual key'));
      expect(res.status).toBe(200);
      expect(w.world.provider.requests.at(-1)?.headers.authorization).toBe('Bearer sk-real-openai-key');
      expect(w.audit.at(-1)).toMatchObject({ decision: 'allow', principal: 'vk:vk-eng' });
    } finally {
      session.close();
    }
  });

  it('decodes a compressed answer for the tap over h2: the client gets it decoded, the record has the usage', async () => {
    w.world.provider.knobs.compress = 'gzip';
    const session = await h2Through(w.proxyUrl, 'api.openai.com', w.caPem);
    try {
      const res = await h2Request(session, { ...CHAT, authorization: 'Bearer ovk-eng-4f9c2a7e1b' }, chat('compressed, please'));
      expect(res.status).toBe(200);
      expect(res.headers['content-encoding']).toBeUndefined();
      expect((JSON.parse(res.body.toString()) as { choices: Array<{ message: { content: string } }> }).choices[0]?.message.content).toContain('compressed, please');
      expect(w.audit.at(-1)?.outputTokens).toBeGreaterThan(0);
    } finally {
      session.close();
    }
  });

  it("answers an exhausted budget 402 in the provider's shape over h2; nothing reaches the provider", async () => {
    const session = await h2Through(w.proxyUrl, 'api.anthropic.com', w.caPem);
    try {
      const res = await h2Request(
        session,
        { ':method': 'POST', ':path': '/v1/messages', 'content-type': 'application/json', 'x-api-key': 'ovk-broke-00000000', 'anthropic-version': '2023-06-01' },
        JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 1000, messages: [{ role: 'user', content: 'hi' }] }),
      );
      expect(res.status).toBe(402);
      expect((JSON.parse(res.body.toString()) as { error: { type: string } }).error.type).toBe('billing_error');
      expect(w.world.provider.requests).toHaveLength(0);
    } finally {
      session.close();
    }
  });

  it("refuses a secret over h2 in the provider's shape, records it, and lets a clean prompt through on the same connection", async () => {
    const session = await h2Through(w.proxyUrl, 'api.openai.com', w.caPem);
    try {
      const secret = ['AKIA', 'Q3EGRKCV7L2ZXW5T'].join('');
      const refused = await h2Request(session, CHAT, chat(`deploy with ${secret} please`));
      expect(refused.status).toBe(403);
      expect(refused.headers['x-outpost-decision']).toMatch(/^block/);
      const error = JSON.parse(refused.body.toString()) as { error: { message: string; type: string; code: string } };
      expect(error.error.code).toBe('guardrail_blocked');
      expect(error.error.message).not.toContain(secret);
      expect(w.world.provider.requests).toHaveLength(0);
      const allowed = await h2Request(session, CHAT, chat('a clean prompt'));
      expect(allowed.status).toBe(200);
      expect(w.audit.map((e) => e.decision)).toEqual(['block', 'allow']);
      expect(JSON.stringify(w.audit)).not.toContain(secret);
    } finally {
      session.close();
    }
  });
});
