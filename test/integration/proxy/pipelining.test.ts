/**
 * HTTP/1.1 pipelining (RFC 9112 §9.3) on every door: requests written back to back on one
 * connection are all answered, in order, even when the client half-closes right after writing them
 * (as `openssl s_client` or `ncat` do at the end of their input); a malformed request in the
 * pipeline is answered 400 in its turn and nothing of it goes upstream (issue 10).
 */
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeServer, listenOnFreePort } from '../../support/ports.js';
import { connectTls, startWorld, until, type ProxyWorld } from './harness.js';

/** A chat completion request (`content-length` framed) carrying `tag` in its prompt. */
function chat(tag: string, stream = false): string {
  const body = JSON.stringify({ model: 'gpt-4o-mini', stream, messages: [{ role: 'user', content: tag }] });
  return `POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

/** The same request with a chunked body whose chunk size is not hexadecimal. */
const BAD_CHUNK = 'POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n';

/** Everything the engine sends until it closes the connection. */
async function readToClose(socket: net.Socket | tls.TLSSocket): Promise<string> {
  let text = '';
  socket.on('error', () => {});
  for await (const chunk of socket) text += (chunk as Buffer).toString('latin1');
  return text;
}

/** The status lines of every response in `text`, in order. */
const statuses = (text: string): number[] => [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));

describe('pipelined requests', () => {
  let world: ProxyWorld;
  /** A plain-HTTP origin for forwarding; answers with the path it was asked. */
  let plain: http.Server;
  beforeAll(async () => {
    plain = http.createServer((req, res) => res.end(`plain ${req.url ?? ''}\n`));
    world = await startWorld({ transparent: true, resolve: { 'plain.example.org': `127.0.0.1:${await listenOnFreePort(plain)}` } });
  });
  afterAll(async () => {
    await world.close();
    await closeServer(plain);
  });

  /** Prompts the fake provider received since `from`. */
  const promptsSince = (from: number): string[] =>
    world.provider.requests.slice(from).map((r) => ((r.json as { messages?: { content: string }[] } | null)?.messages?.[0]?.content ?? ''));

  it('are all answered, in order, on an intercepted connection', async () => {
    const socket = await connectTls(world.engine, 'api.openai.com:443', world.ca.caPem);
    const from = world.provider.requests.length;
    socket.write(chat('first') + chat('second') + `${chat('third').replace('HTTP/1.1\r\n', 'HTTP/1.1\r\nConnection: close\r\n')}`);
    const text = await readToClose(socket);
    expect(statuses(text)).toEqual([200, 200, 200]);
    expect(text.indexOf('Echo from gpt-4o-mini: first')).toBeLessThan(text.indexOf('Echo from gpt-4o-mini: second'));
    expect(text.indexOf('Echo from gpt-4o-mini: second')).toBeLessThan(text.indexOf('Echo from gpt-4o-mini: third'));
    expect(promptsSince(from)).toEqual(['first', 'second', 'third']);
  });

  it('keep their order when the first is a stream still running and the second is answered upstream first', async () => {
    world.provider.knobs.holdAfterEvents = 1;
    try {
      const socket = await connectTls(world.engine, 'api.openai.com:443', world.ca.caPem);
      const from = world.provider.requests.length;
      socket.write(chat('streamed', true) + chat('quick'));
      let text = '';
      socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
      // The second is answered upstream while the first stream is held there.
      await until(() => promptsSince(from).length === 2 && text.includes('data: '), 'both requests upstream and the stream started');
      world.provider.release();
      await until(() => statuses(text).length === 2 && text.includes('"object":"chat.completion"'), 'both answers');
      expect(text.indexOf('data: [DONE]')).toBeLessThan(text.indexOf('"object":"chat.completion"'));
      socket.destroy();
    } finally {
      world.provider.reset();
    }
  });

  describe('from a client that half-closes right after writing them', () => {
    const doors: [string, () => Promise<net.Socket | tls.TLSSocket>][] = [
      ['an intercepted CONNECT', () => connectTls(world.engine, 'api.openai.com:443', world.ca.caPem)],
      [
        'the transparent door',
        async () => {
          const socket = tls.connect({ host: '127.0.0.1', port: world.engine.transparentPort as number, servername: 'api.openai.com', ca: world.ca.caPem });
          await new Promise((resolve) => socket.once('secureConnect', resolve));
          return socket;
        },
      ],
    ];
    for (const [door, open] of doors) {
      it(`are answered in order, then the connection closes: ${door}`, async () => {
        const socket = await open();
        const from = world.provider.requests.length;
        socket.end(chat('one') + chat('two'));
        const text = await readToClose(socket);
        expect(statuses(text)).toEqual([200, 200]);
        expect(text.indexOf('Echo from gpt-4o-mini: one')).toBeLessThan(text.indexOf('Echo from gpt-4o-mini: two'));
        expect(promptsSince(from)).toEqual(['one', 'two']);
      });
    }

    it('are answered in order on plain-HTTP forwarding, the PAC file among them', async () => {
      const socket = net.connect(world.engine.address.port, '127.0.0.1');
      const get = (path: string): string => `GET http://plain.example.org${path} HTTP/1.1\r\nHost: plain.example.org\r\n\r\n`;
      socket.end(`${get('/a')}GET /proxy.pac HTTP/1.1\r\nHost: x\r\n\r\n${get('/b')}`);
      const text = await readToClose(socket);
      expect(statuses(text)).toEqual([200, 200, 200]);
      expect(text.indexOf('plain /a')).toBeLessThan(text.indexOf('FindProxyForURL'));
      expect(text.indexOf('FindProxyForURL')).toBeLessThan(text.indexOf('plain /b'));
    });
  });

  describe('a malformed chunk size', () => {
    it('is answered 400 and nothing goes upstream (intercepted)', async () => {
      const socket = await connectTls(world.engine, 'api.openai.com:443', world.ca.caPem);
      const from = world.provider.requests.length;
      socket.write(BAD_CHUNK);
      const text = await readToClose(socket);
      expect(statuses(text)).toEqual([400]);
      expect(world.provider.requests.length).toBe(from);
    });

    it('is answered 400 and nothing goes upstream (plain-HTTP forwarding)', async () => {
      const socket = net.connect(world.engine.address.port, '127.0.0.1');
      const from = world.provider.requests.length;
      socket.write(BAD_CHUNK.replace('POST /v1/chat/completions', 'POST http://api.openai.com/v1/chat/completions'));
      const text = await readToClose(socket);
      expect(statuses(text)).toEqual([400]);
      expect(world.provider.requests.length).toBe(from);
    });

    it('in a pipelined second request: the first is answered, then the 400, in that order', async () => {
      world.provider.knobs.holdAfterEvents = 1;
      try {
        const socket = await connectTls(world.engine, 'api.openai.com:443', world.ca.caPem);
        const from = world.provider.requests.length;
        socket.write(chat('before the bad one', true) + BAD_CHUNK);
        let text = '';
        socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
        await until(() => text.includes('data: '), 'the first stream to start');
        world.provider.release();
        await new Promise((resolve) => socket.once('close', resolve));
        expect(statuses(text)).toEqual([200, 400]);
        expect(text.indexOf('data: [DONE]')).toBeLessThan(text.indexOf('HTTP/1.1 400'));
        expect(promptsSince(from)).toEqual(['before the bad one']);
      } finally {
        world.provider.reset();
      }
    });
  });
});
