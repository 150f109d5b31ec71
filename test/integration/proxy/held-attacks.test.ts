/**
 * Attacks that issue 10's red team tried and the engine held against; kept as tests so that they
 * keep holding: request smuggling (CL+TE, double TE, double CL: 400, nothing forwarded) on both
 * the intercepted and the plain-HTTP path, 10,000 headers, a 100 MB body, a giant SNI, 2,000
 * slowloris sockets at once, and the control API reached through the proxy without its token.
 * (Malformed CONNECT targets, 64 KB header lines and 10,000 idle sockets: robustness.test.ts.)
 */
import net from 'node:net';
import tls from 'node:tls';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlServer, type ControlServer } from '../../../agent/control/server.js';
import { dispatcherFor } from '../../support/clients.js';
import { connectTls, rawExchange, startWorld, until, type ProxyWorld } from './harness.js';

/** Everything the engine sends until it closes the connection. */
async function readToClose(socket: net.Socket | tls.TLSSocket): Promise<string> {
  let text = '';
  socket.on('error', () => {});
  for await (const chunk of socket) text += (chunk as Buffer).toString('latin1');
  return text;
}

const BODY = '{"model":"gpt-4o-mini","messages":[]}';
/** Requests whose framing two parsers could read differently (RFC 9112 §6.3): each must be refused. */
const SMUGGLING: Record<string, string> = {
  'Content-Length with Transfer-Encoding': `content-length: ${BODY.length}\r\ntransfer-encoding: chunked\r\n\r\n${BODY.length.toString(16)}\r\n${BODY}\r\n0\r\n\r\n`,
  'Transfer-Encoding twice': `transfer-encoding: chunked\r\ntransfer-encoding: identity\r\n\r\n${BODY.length.toString(16)}\r\n${BODY}\r\n0\r\n\r\n`,
  'two different Content-Lengths': `content-length: ${BODY.length}\r\ncontent-length: 5\r\n\r\n${BODY}`,
};

describe('attacks the engine holds against', () => {
  let world: ProxyWorld;
  let dispatcher: ReturnType<typeof dispatcherFor>;
  let control: ControlServer;
  const stillServes = async (): Promise<void> => {
    const res = await request('https://api.openai.com/v1/models', { dispatcher });
    expect(res.statusCode).toBe(200);
    await res.body.text();
  };

  beforeAll(async () => {
    world = await startWorld({ transparent: true, engine: { timeouts: { headersMs: 1_000, checkIntervalMs: 200 } } });
    dispatcher = dispatcherFor({ proxyUrl: world.engine.url, ca: world.ca.caPem });
    control = await startControlServer('127.0.0.1', 0, 'held-attacks-token', {
      status: () => {
        throw new Error('not reached without the token');
      },
      metrics: async () => '',
    });
  });
  afterAll(async () => {
    await control.close();
    await dispatcher.close();
    await world.close();
  });

  for (const [name, rest] of Object.entries(SMUGGLING)) {
    it(`refuses request smuggling (${name}) with 400 and forwards nothing, intercepted and plain`, async () => {
      const before = world.provider.requests.length;
      const secure = await connectTls(world.engine, 'api.openai.com:443', world.ca.caPem);
      secure.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\ncontent-type: application/json\r\n${rest}`);
      expect(await readToClose(secure)).toMatch(/^HTTP\/1\.1 400 /);
      const plain = net.connect(world.engine.address.port, '127.0.0.1');
      plain.write(`POST http://api.openai.com/v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\ncontent-type: application/json\r\n${rest}`);
      expect(await readToClose(plain)).toMatch(/^HTTP\/1\.1 400 /);
      expect(world.provider.requests.length).toBe(before);
      await stillServes();
    });
  }

  it('answers 10,000 headers 431', async () => {
    const headers = Array.from({ length: 10_000 }, (_, i) => `x-h${i}: v`).join('\r\n');
    const reply = await rawExchange(world.engine, `GET http://api.openai.com/v1/models HTTP/1.1\r\nHost: api.openai.com\r\n${headers}\r\n\r\n`).catch((err: Error) => err);
    // Node answers 431 once the head passes its limit; a client still writing may see the close first.
    if (!(reply instanceof Error)) {
      reply.socket.destroy();
      expect(reply.status).toBe(431);
    }
    await stillServes();
  });

  it('answers a 100 MB body 413 before reading it, and forwards nothing', async () => {
    const before = world.provider.requests.length;
    const secure = await connectTls(world.engine, 'api.openai.com:443', world.ca.caPem);
    secure.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\ncontent-type: application/json\r\ncontent-length: ${100 * 1024 * 1024}\r\n\r\n{"model":`);
    expect(await readToClose(secure)).toMatch(/^HTTP\/1\.1 413 /);
    expect(world.provider.requests.length).toBe(before);
    await stillServes();
  });

  it('drops a ClientHello with a giant server name at the transparent door', async () => {
    const hello = tls.connect({ host: '127.0.0.1', port: world.engine.transparentPort as number, servername: `${'a'.repeat(60)}.`.repeat(16) + 'example', ca: world.ca.caPem });
    await new Promise((resolve) => hello.once('error', resolve).once('close', resolve));
    hello.destroy();
    await stillServes();
  });

  it('cuts off 2,000 slowloris sockets at once and serves meanwhile', { timeout: 60_000 }, async () => {
    const sockets = await Promise.all(
      Array.from({ length: 2_000 }, async () => {
        const s = net.connect(world.engine.address.port, '127.0.0.1');
        s.on('error', () => {});
        await new Promise((resolve) => s.once('connect', resolve));
        s.write('CONNECT api.openai.com:443 HTTP/1.1\r\nX-a: b\r\n');
        s.resume();
        return s;
      }),
    );
    await stillServes();
    const closed = sockets.map((s) => new Promise((resolve) => (s.closed ? resolve(null) : s.once('close', resolve))));
    await Promise.all(closed);
    await until(() => world.engine.stats().connections <= 1, 'the slowloris sockets to be released', 30_000);
    await stillServes();
  });

  it('answers the control API 401 when it is reached through the proxy without the token', async () => {
    const port = new URL(control.url).port;
    const reply = await rawExchange(world.engine, `GET http://127.0.0.1:${port}/v1/status HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    reply.socket.destroy();
    expect(reply.status).toBe(401);
  });
});
