import { Readable } from 'node:stream';
import type { IncomingHttpHeaders } from 'node:http';
import { request, WebSocket, ProxyAgent } from 'undici';
import { WebSocketServer } from 'ws';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gate, Respond, ResponseTap } from '../../../agent/pipeline/seam.js';
import { dispatcherFor } from '../../support/clients.js';
import { collectSse } from '../../support/sse.js';
import { connectTls, startWorld, until, type ProxyWorld } from './harness.js';

/** A tap that records what it saw, returning each chunk untouched. */
class RecordingTap implements ResponseTap {
  readonly readsBody = true;
  stopped = false;
  status = 0;
  chunks: Buffer[] = [];
  ended = false;
  failure: { error: Error; side: string } | null = null;
  head(status: number, _headers: IncomingHttpHeaders): boolean {
    this.status = status;
    return false;
  }
  chunk(data: Buffer): Buffer {
    this.chunks.push(data);
    return data;
  }
  end(): null {
    this.ended = true;
    return null;
  }
  fail(error: Error, side: 'upstream' | 'client'): void {
    this.failure = { error, side };
  }
  unchecked(reason: string): void {
    this.failure = { error: new Error(reason), side: 'unchecked' };
  }
  refuse(reason: string): Respond {
    this.failure = { error: new Error(reason), side: 'refused' };
    return { kind: 'respond', status: 502, headers: { 'content-type': 'application/json' }, body: '{"error":{"message":"refused"}}' };
  }
}

describe('request and response handling', () => {
  let world: ProxyWorld;
  const taps: RecordingTap[] = [];
  const upstreamHeaders: IncomingHttpHeaders[] = [];
  let dispatcher: ReturnType<typeof dispatcherFor>;
  const chat = (body: object, path = '/v1/chat/completions') =>
    request(`https://api.openai.com${path}`, {
      dispatcher,
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test' },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    world = await startWorld({
      maxBodyBytes: 64 * 1024,
      resolve: { 'api.mistral.ai': '127.0.0.1:1' },
      gate: (base): Gate => ({
        ...base,
        classify: (h) => base.classify(h),
        tooLarge: (r, l) => base.tooLarge(r, l),
        upstreamFailed: (r, e) => base.upstreamFailed(r, e),
        connect: (e) => base.connect(e),
        failMode: base.failMode,
        admit(req) {
          const tap = new RecordingTap();
          taps.push(tap);
          upstreamHeaders.push(req.headers);
          return { kind: 'forward', path: req.path, headers: req.headers, body: req.body, decision: 'allow', tap };
        },
      }),
    });
    dispatcher = dispatcherFor({ proxyUrl: world.engine.url, ca: world.ca.caPem });
  });
  afterAll(async () => {
    await dispatcher.close();
    await world.close();
  });

  it('feeds every response chunk through the tap in order, then ends it', async () => {
    world.provider.knobs.chunks = 5;
    const res = await chat({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    const capture = await collectSse(res.body);
    const tap = taps.at(-1)!;
    await until(() => tap.ended, 'the tap to end');
    // A tap that reads the body makes the engine ask upstream for identity encoding.
    expect(world.provider.requests.at(-1)?.headers['accept-encoding']).toBe('identity');
    world.provider.reset();
    expect(tap.status).toBe(200);
    expect(Buffer.concat(tap.chunks).toString()).toBe(capture.raw);
  });

  it('answers 413 in the provider’s error shape beyond the body bound (content-length and chunked)', async () => {
    const big = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x'.repeat(100 * 1024) }] };
    const before = world.provider.requests.length;
    const res = await chat(big);
    expect(res.statusCode).toBe(413);
    const body = (await res.body.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe('request_too_large');
    const chunked = await request('https://api.openai.com/v1/chat/completions', {
      dispatcher,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      // A stream body: undici sends it chunked, with no content-length to refuse up front.
      body: Readable.from((function* () {
        for (let i = 0; i < 20; i++) yield Buffer.alloc(8 * 1024, 0x61);
      })()),
    }).catch((err: Error) => err);
    // The engine answers as soon as the bound is crossed and closes: the client sees the 413
    // unless its upload was cut first.
    if (!(chunked instanceof Error)) expect(chunked.statusCode).toBe(413);
    expect(world.provider.requests.length).toBe(before);
  });

  it('answers 502 in the provider’s shape when upstream refuses, and records the failure', async () => {
    const before = world.engine.stats().failed;
    const res = await request('https://api.mistral.ai/v1/models', { dispatcher });
    expect(res.statusCode).toBe(502);
    const body = (await res.body.json()) as { error: { type: string } };
    expect(body.error.type).toBe('upstream_error');
    expect(taps.at(-1)?.failure?.side).toBe('upstream');
    expect(world.engine.stats().failed).toBe(before + 1);
  });

  it('breaks the client’s stream cleanly when upstream resets mid-stream, and records the failure', async () => {
    world.provider.knobs.chunks = 10;
    world.provider.knobs.resetAfterEvents = 3;
    try {
      const res = await chat({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] });
      expect(res.statusCode).toBe(200);
      await expect(collectSse(res.body)).rejects.toThrow();
      const tap = taps.at(-1)!;
      await until(() => tap.failure !== null, 'the tap to see the failure');
      expect(tap.failure?.side).toBe('upstream');
      expect(tap.ended).toBe(false);
    } finally {
      world.provider.reset();
    }
  });

  it('records a failure on the client side when the client goes away mid-stream', async () => {
    world.provider.knobs.chunks = 10;
    world.provider.knobs.holdAfterEvents = 2;
    try {
      const res = await chat({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] });
      const tap = taps.at(-1)!;
      await until(() => tap.chunks.length > 0, 'the first chunk');
      res.body.destroy();
      await until(() => tap.failure !== null, 'the tap to see the client leave');
      expect(tap.failure?.side).toBe('client');
    } finally {
      world.provider.reset();
    }
  });

  it('drops hop-by-hop request headers, and those Connection names, on the way upstream', async () => {
    const socket = await connectTls(world.engine, 'api.openai.com:443', world.ca.caPem);
    socket.write('GET /v1/models HTTP/1.1\r\nHost: api.openai.com\r\nConnection: close, x-hop\r\nX-Hop: secret\r\nTE: deflate\r\nX-End: kept\r\n\r\n');
    let text = '';
    for await (const chunk of socket) text += (chunk as Buffer).toString();
    expect(text).toMatch(/^HTTP\/1\.1 200/);
    const seen = world.provider.requests.at(-1)!.headers;
    expect(seen['x-hop']).toBeUndefined();
    // `TE: trailers` alone would stay (gRPC; hop-by-hop.ts); any other TE is this hop's.
    expect(seen.te).toBeUndefined();
    expect(seen['x-end']).toBe('kept');
  });
});

describe('WebSocket upgrades', () => {
  let world: ProxyWorld;
  let origin: https.Server;
  beforeAll(async () => {
    // The origin listens first (the engine's resolve map needs its port); its certificate comes
    // from the world's CA once that exists.
    origin = https.createServer();
    const wss = new WebSocketServer({ server: origin });
    wss.on('connection', (ws) => ws.on('message', (m) => ws.send(`echo:${String(m)}`)));
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
    world = await startWorld({ hosts: ['realtime.example-ai.test'], resolve: { 'realtime.example-ai.test': `127.0.0.1:${(origin.address() as AddressInfo).port}` } });
    const leaf = world.ca.issue(['realtime.example-ai.test']);
    origin.setSecureContext({ cert: leaf.cert, key: leaf.key });
  });
  afterAll(async () => {
    await world.close();
    origin.close();
  });

  it('passes a WebSocket through an intercepted host', async () => {
    const dispatcher = new ProxyAgent({ uri: world.engine.url, requestTls: { ca: [world.ca.caPem] } });
    const ws = new WebSocket('wss://realtime.example-ai.test/v1/realtime', { dispatcher });
    const reply = await new Promise<string>((resolve, reject) => {
      ws.addEventListener('open', () => ws.send('ping'));
      ws.addEventListener('message', (e) => resolve(String(e.data)));
      ws.addEventListener('error', () => reject(new Error('websocket error')));
    });
    ws.close();
    await dispatcher.close();
    expect(reply).toBe('echo:ping');
    expect(world.engine.stats().intercepted).toBe(1);
  });
});
