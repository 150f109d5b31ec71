/**
 * HTTP/2 abuse is bounded (issue 18.1; the limits are `H2_LIMITS` in agent/proxy/h2-server.ts):
 * rapid reset, CONTINUATION floods, header-list bombs (many fields, huge fields, HPACK
 * amplification), SETTINGS floods, streams past the concurrency limit. Each attack is sent as raw
 * frames through the real proxy and TLS; each must end in a refusal (RST_STREAM or GOAWAY and a
 * closed connection), send nothing (or a bounded number of requests) upstream, and leave the engine
 * serving the next client.
 */
import http2 from 'node:http2';
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { H2_LIMITS } from '../../../agent/proxy/h2-server.js';
import { connectTunnel, h2Request, h2Through } from '../../support/h2-client.js';
import { FLAG, FRAME, frame, h2Raw, H2_ERROR, headerBlock, requestFields, settings, type RawH2 } from '../../support/h2-frames.js';
import { startWorld, type ProxyWorld } from './harness.js';

const HOST = 'api.openai.com';

describe('HTTP/2 abuse against the client side', () => {
  let world: ProxyWorld;
  beforeAll(async () => {
    world = await startWorld();
  });
  beforeEach(() => world.provider.reset());
  afterAll(async () => {
    await world.close();
  });

  const raw = (): Promise<RawH2> => h2Raw(world.engine.url, HOST, world.ca.caPem);
  /** Requests upstream saw for one test's path (a previous test's cancelled requests may still land). */
  const upstream = (path: string): number => world.provider.requests.filter((r) => r.path === path).length;

  /** The engine still serves a well-behaved h2 client afterwards. */
  async function stillServes(): Promise<void> {
    const session = await h2Through(world.engine.url, HOST, world.ca.caPem);
    try {
      expect((await h2Request(session, { ':method': 'GET', ':path': '/v1/models' })).status).toBe(200);
    } finally {
      session.close();
    }
  }

  it('rapid reset: streams opened and cancelled in a loop end the connection after a bounded number', async () => {
    const c = await raw();
    const streams = 5000;
    const batch: Buffer[] = [];
    for (let i = 0; i < streams; i++) {
      const id = 1 + 2 * i;
      batch.push(frame(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, id, headerBlock(requestFields(HOST, '/v1/models?t=rapid'))));
      batch.push(frame(FRAME.RST_STREAM, 0, id, Buffer.from([0, 0, 0, H2_ERROR.CANCEL])));
    }
    c.socket.write(Buffer.concat(batch));
    await c.closed;
    expect(c.goaway()).toBe(H2_ERROR.ENHANCE_YOUR_CALM);
    // Upstream saw at most the burst the limit allows, not the thousands the client sent.
    expect(upstream('/v1/models?t=rapid')).toBeLessThanOrEqual(H2_LIMITS.streamResetBurst);
    await stillServes();
  });

  it('CONTINUATION flood: a header block that never ends closes the connection, nothing goes upstream', async () => {
    const c = await raw();
    const frames: Buffer[] = [frame(FRAME.HEADERS, 0, 1, headerBlock(requestFields(HOST, '/v1/models?t=continuation')))];
    for (let i = 0; i < 10_000; i++) frames.push(frame(FRAME.CONTINUATION, 0, 1, headerBlock([[`x-flood-${i}`, 'a'.repeat(32)]])));
    c.socket.write(Buffer.concat(frames));
    await c.closed;
    expect(c.goaway()).not.toBeNull();
    expect(c.goaway()).not.toBe(H2_ERROR.NO_ERROR);
    expect(upstream('/v1/models?t=continuation')).toBe(0);
    await stillServes();
  });

  it('header-list bomb: more fields than maxHeaderListPairs are refused, nothing goes upstream', async () => {
    const c = await raw();
    const fields = [...requestFields(HOST, '/v1/models?t=pairs'), ...Array.from({ length: H2_LIMITS.maxHeaderListPairs * 2 }, (_, i) => [`x-pair-${i}`, 'v'] as [string, string])];
    c.socket.write(frame(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, 1, headerBlock(fields)));
    await refusedStream(c, 1);
    expect(upstream('/v1/models?t=pairs')).toBe(0);
    c.socket.destroy();
    await stillServes();
  });

  it('header-list bomb: HPACK amplification (one indexed field repeated) past maxHeaderListSize is refused', async () => {
    const c = await raw();
    const big = 'b'.repeat(4000);
    // Literal with incremental indexing (RFC 7541 §6.2.1): the field enters the dynamic table at index 62…
    const literal = Buffer.concat([Buffer.from([0x40]), hpackLiteral('x-bomb'), hpackLiteral(big)]);
    // …then referenced by one byte each: 2000 bytes on the wire decode to 8 MB of fields.
    const repeats = Buffer.alloc(2000, 0x80 | 62);
    const block = Buffer.concat([headerBlock(requestFields(HOST, '/v1/models?t=hpack')), literal, repeats]);
    c.socket.write(frame(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, 1, block));
    await refusedStream(c, 1);
    expect(upstream('/v1/models?t=hpack')).toBe(0);
    c.socket.destroy();
    await stillServes();
  });

  it('SETTINGS with more entries than maxSettings end the connection with ENHANCE_YOUR_CALM', async () => {
    const c = await raw();
    c.socket.write(settings(Array.from({ length: H2_LIMITS.maxSettings * 10 }, () => [0x3, 100] as const)));
    // nghttp2 answers GOAWAY and stops reading; the socket itself goes at the idle timeout (h2-server.ts).
    const goaway = await c.frame((f) => f.type === FRAME.GOAWAY);
    expect(goaway?.payload.readUInt32BE(4)).toBe(H2_ERROR.ENHANCE_YOUR_CALM);
    c.socket.destroy();
    await stillServes();
  });

  it('SETTINGS flood from a client that never reads the acknowledgements: the connection is dropped', async () => {
    const c = await raw();
    c.socket.pause();
    const one = settings();
    const burst = Buffer.concat(Array.from({ length: 10_000 }, () => one));
    let sent = 0;
    let gone = false;
    void c.closed.then(() => {
      gone = true;
    });
    // Keep flooding until the server gives up (bounded: at most 200 bursts, 2 M frames).
    while (!gone && sent < 200) {
      const ok = c.socket.write(burst);
      sent++;
      if (!ok) await Promise.race([new Promise((resolve) => c.socket.once('drain', resolve)), c.closed]);
    }
    await c.closed;
    expect(gone).toBe(true);
    await stillServes();
  });

  it('streams past maxConcurrentStreams are refused; a client that keeps opening them loses the connection', async () => {
    const c = await raw();
    const open = H2_LIMITS.maxConcurrentStreams + H2_LIMITS.maxSessionRejectedStreams + 50;
    const frames: Buffer[] = [];
    // Requests whose bodies never come: each stays open, none is complete enough to go upstream.
    for (let i = 0; i < open; i++) frames.push(frame(FRAME.HEADERS, FLAG.END_HEADERS, 1 + 2 * i, headerBlock(requestFields(HOST, '/v1/chat/completions', 'POST'))));
    c.socket.write(Buffer.concat(frames));
    await c.closed;
    const refused = c.frames.filter((f) => f.type === FRAME.RST_STREAM && f.payload.readUInt32BE(0) === H2_ERROR.REFUSED_STREAM);
    // Every stream past the limit is refused, and past maxSessionRejectedStreams the connection is dropped.
    expect(refused.length).toBeGreaterThan(H2_LIMITS.maxSessionRejectedStreams - 10);
    expect(refused.every((f) => f.streamId > 2 * H2_LIMITS.maxConcurrentStreams)).toBe(true);
    expect(upstream('/v1/chat/completions')).toBe(0);
    await stillServes();
  });
});

function hpackLiteral(text: string): Buffer {
  const bytes = Buffer.from(text, 'latin1');
  if (bytes.length < 127) return Buffer.concat([Buffer.from([bytes.length]), bytes]);
  const out = [127];
  let rest = bytes.length - 127;
  while (rest >= 128) {
    out.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return Buffer.concat([Buffer.from(out), bytes]);
}

/** Waits until stream `id` is refused: reset, or the connection goes away; an answer on it would have to be an error. */
async function refusedStream(c: RawH2, id: number): Promise<void> {
  const f = await c.frame((x) => (x.streamId === id && (x.type === FRAME.RST_STREAM || x.type === FRAME.HEADERS)) || x.type === FRAME.GOAWAY);
  if (f?.type === FRAME.HEADERS) expect(f.payload.includes(Buffer.from('200'))).toBe(false);
}

describe('slow h2 clients', () => {
  let world: ProxyWorld;
  beforeAll(async () => {
    // Short enough to watch the stall being cut off within a test.
    world = await startWorld({ engine: { timeouts: { headersMs: 400, requestMs: 600, checkIntervalMs: 100 } } });
  });
  afterAll(async () => {
    await world.close();
  });

  it('is dropped after the headers timeout (it never reaches the HTTP/2 server, whose timeouts would bound it)', async () => {
    // A real ClientHello offering h2, captured from Node's TLS client; nothing is sent after it.
    const written: Buffer[] = [];
    const captured = new Promise<Buffer>((resolve) => {
      const sink = new Duplex({
        read() {},
        write(chunk: Buffer, _encoding, callback) {
          written.push(chunk);
          resolve(chunk);
          callback();
        },
      });
      const client = tls.connect({ socket: sink, servername: HOST, ALPNProtocols: ['h2'] });
      client.on('error', () => {});
    });
    const hello = await captured;
    const socket = await connectTunnel(world.engine.url, `${HOST}:443`);
    socket.on('error', () => {});
    socket.write(hello);
    socket.resume();
    // The engine answers the hello, then waits for a Finished that never comes, until the timeout.
    await new Promise((resolve) => socket.once('close', resolve));
    expect(written.length).toBeGreaterThan(0);
  });

  it('a stream whose request body never ends is cancelled after the request time; the connection stays', async () => {
    const session = await h2Through(world.engine.url, HOST, world.ca.caPem);
    try {
      const stream = session.request({ ':method': 'POST', ':path': '/v1/chat/completions', 'content-type': 'application/json' });
      stream.write('{"model":"gpt-4o-mini","mess');
      stream.on('error', () => {});
      await new Promise((resolve) => stream.once('close', resolve));
      expect(stream.rstCode).toBe(http2.constants.NGHTTP2_CANCEL);
      expect(world.provider.requests).toHaveLength(0);
      expect((await h2Request(session, { ':method': 'GET', ':path': '/v1/models' })).status).toBe(200);
    } finally {
      session.close();
    }
  });
});
