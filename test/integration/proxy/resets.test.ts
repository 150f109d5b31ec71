/**
 * A client (or an upstream) that resets its connection at any stage of any path never takes the
 * engine down (issue 10). Each case drives raw sockets to one stage of one path, sends a TCP reset
 * (RST, `resetAndDestroy`), waits for the engine to let go of the connection, and then checks that
 * it still serves a governed request. An unhandled 'error' event anywhere is an uncaught exception,
 * which fails this file (vitest reports it). The same attacks against the real `outpost start`
 * process, with curl, are in test/integration/robustness/agent-process.test.ts.
 */
import http from 'node:http';
import net from 'node:net';
import type tls from 'node:tls';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlServer, type ControlServer } from '../../../agent/control/server.js';
import { dispatcherFor } from '../../support/clients.js';
import { listenOnFreePort, closeServer } from '../../support/ports.js';
import { clientHello, dialRaw as dial, firstData, tlsOver } from '../../support/raw-tls.js';
import { readHead, startWorld, until, type ProxyWorld } from './harness.js';

/** A governed chat completion request, head and body. */
function chat(host: string, stream: boolean): string {
  const body = JSON.stringify({ model: 'gpt-4o-mini', stream, messages: [{ role: 'user', content: 'hello' }] });
  return `POST /v1/chat/completions HTTP/1.1\r\nHost: ${host}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

describe('a connection reset at any stage never takes the engine down', () => {
  let world: ProxyWorld;
  let dispatcher: ReturnType<typeof dispatcherFor>;
  /** A plain-HTTP origin (for forwarding) and a TCP origin that resets whoever writes to it. */
  let plain: http.Server;
  let resetter: net.Server;
  let control: ControlServer;
  const TOKEN = 'robustness-test-token';

  beforeAll(async () => {
    plain = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.end('plain origin\n'));
    });
    const plainPort = await listenOnFreePort(plain);
    resetter = net.createServer((s) => {
      s.on('error', () => {});
      s.once('data', () => s.resetAndDestroy());
    });
    const resetPort = await listenOnFreePort(resetter);
    world = await startWorld({
      transparent: true,
      resolve: { 'plain.example.org': `127.0.0.1:${plainPort}`, 'reset.example.org': `127.0.0.1:${resetPort}`, 'refused.example.org': '127.0.0.1:1' },
    });
    dispatcher = dispatcherFor({ proxyUrl: world.engine.url, ca: world.ca.caPem });
    control = await startControlServer('127.0.0.1', 0, TOKEN, {
      status: () => {
        throw new Error('not used');
      },
      metrics: async () => 'outpost_up 1\n',
    });
  });
  afterAll(async () => {
    await control.close();
    await dispatcher.close();
    await world.close();
    await closeServer(plain);
    await closeServer(resetter);
  });

  const proxyPort = (): number => world.engine.address.port;
  const transparentPort = (): number => world.engine.transparentPort as number;

  /** The engine released every connection of the case and still serves a governed request. */
  const stillServes = async (): Promise<void> => {
    await until(() => world.engine.stats().connections <= 1, 'the reset connection to be released');
    const res = await request('https://api.openai.com/v1/models', { dispatcher });
    expect(res.statusCode).toBe(200);
    await res.body.text();
  };

  /** CONNECTs a fresh raw socket to `authority` and reads the answer's head. */
  const connect = async (authority: string): Promise<{ socket: net.Socket; status: number }> => {
    const socket = await dial(proxyPort());
    socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
    const reply = await readHead(socket);
    socket.resume();
    return { socket, status: reply.status };
  };

  /** CONNECT, 200, then TLS to `host` over a socket the test can reset. */
  const connectTls = async (host: string): Promise<{ raw: net.Socket; tls: tls.TLSSocket }> => {
    const { socket, status } = await connect(`${host}:443`);
    expect(status).toBe(200);
    socket.pause();
    const secure = tlsOver(socket, host, world.ca.caPem);
    await new Promise((resolve) => secure.once('secureConnect', resolve));
    return { raw: socket, tls: secure };
  };

  describe('the block path', () => {
    it('a CONNECT to a blocked host reset before its 403 is read', async () => {
      const socket = await dial(proxyPort());
      socket.write('CONNECT api.deepseek.com:443 HTTP/1.1\r\nHost: api.deepseek.com:443\r\n\r\n');
      await firstData(socket);
      socket.resetAndDestroy();
      await stillServes();
    });

    it('a CONNECT to a blocked host reset as soon as it is sent', async () => {
      const socket = await dial(proxyPort());
      socket.write('CONNECT api.deepseek.com:443 HTTP/1.1\r\nHost: api.deepseek.com:443\r\n\r\n', () => socket.resetAndDestroy());
      await stillServes();
    });

    it('a CONNECT to a blocked host, then the ClientHello, then a reset', async () => {
      const socket = await dial(proxyPort());
      socket.write(Buffer.concat([Buffer.from('CONNECT api.deepseek.com:443 HTTP/1.1\r\nHost: api.deepseek.com:443\r\n\r\n'), await clientHello('api.deepseek.com')]));
      await firstData(socket);
      socket.resetAndDestroy();
      await stillServes();
    });

    it('refusals of a malformed CONNECT (400) and of a loop (508), reset after the answer', async () => {
      for (const authority of ['!!!:443', `127.0.0.1:${proxyPort()}`]) {
        const socket = await dial(proxyPort());
        socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: x\r\n\r\n`);
        await firstData(socket);
        socket.resetAndDestroy();
      }
      await stillServes();
    });

    it('a plain-HTTP request and an Upgrade to a blocked host, reset after the answer', async () => {
      for (const head of [
        'GET http://api.deepseek.com/v1/models HTTP/1.1\r\nHost: api.deepseek.com\r\n\r\n',
        'GET http://api.deepseek.com/ws HTTP/1.1\r\nHost: api.deepseek.com\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
      ]) {
        const socket = await dial(proxyPort());
        socket.write(head);
        await firstData(socket);
        socket.resetAndDestroy();
      }
      await stillServes();
    });
  });

  describe('the tunnel path', () => {
    it('reset while the upstream is being dialled', async () => {
      const socket = await dial(proxyPort());
      socket.write('CONNECT api.groq.com:443 HTTP/1.1\r\nHost: api.groq.com:443\r\n\r\n', () => socket.resetAndDestroy());
      await stillServes();
    });

    it('reset after the 200', async () => {
      const { socket, status } = await connect('api.groq.com:443');
      expect(status).toBe(200);
      socket.resetAndDestroy();
      await stillServes();
    });

    it('reset mid-stream, with the origin still answering', async () => {
      const { raw, tls: secure } = await connectTls('api.groq.com');
      secure.write(chat('api.groq.com', true));
      await new Promise((resolve) => secure.once('data', resolve));
      raw.resetAndDestroy();
      await stillServes();
    });

    it('reset after a 502 for a refusing origin', async () => {
      const { socket, status } = await connect('refused.example.org:443');
      expect(status).toBe(502);
      socket.resetAndDestroy();
      await stillServes();
    });

    it('the origin resets the tunnel', async () => {
      const { socket, status } = await connect('reset.example.org:443');
      expect(status).toBe(200);
      socket.write('hello');
      await new Promise((resolve) => socket.once('close', resolve));
      await stillServes();
    });
  });

  describe('the intercept path', () => {
    it('reset right after the CONNECT', async () => {
      const socket = await dial(proxyPort());
      socket.write('CONNECT api.openai.com:443 HTTP/1.1\r\nHost: api.openai.com:443\r\n\r\n', () => socket.resetAndDestroy());
      await stillServes();
    });

    it('reset after the 200, before the ClientHello', async () => {
      const { socket, status } = await connect('api.openai.com:443');
      expect(status).toBe(200);
      socket.resetAndDestroy();
      await stillServes();
    });

    it('reset mid-handshake (ServerHello received)', async () => {
      const { socket, status } = await connect('api.openai.com:443');
      expect(status).toBe(200);
      socket.write(await clientHello('api.openai.com'));
      await firstData(socket);
      socket.resetAndDestroy();
      await stillServes();
    });

    it('reset mid-handshake with the ClientHello sent along with the CONNECT', async () => {
      const socket = await dial(proxyPort());
      socket.write(Buffer.concat([Buffer.from('CONNECT api.openai.com:443 HTTP/1.1\r\nHost: api.openai.com:443\r\n\r\n'), await clientHello('api.openai.com')]));
      await firstData(socket);
      socket.resetAndDestroy();
      await stillServes();
    });

    it('reset after the handshake, before any request', async () => {
      const { raw } = await connectTls('api.openai.com');
      raw.resetAndDestroy();
      await stillServes();
    });

    it('reset mid-request: in the head, then in the body', async () => {
      for (const partial of ['POST /v1/chat/completions HTTP/1.1\r\nHost: api.open', 'POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\ncontent-length: 1000\r\n\r\n{"model":']) {
        const { raw, tls: secure } = await connectTls('api.openai.com');
        const before = world.provider.requests.length;
        await new Promise<void>((resolve) => secure.write(partial, () => resolve()));
        raw.resetAndDestroy();
        await stillServes();
        expect(world.provider.requests.length).toBe(before + 1); // only stillServes' request went upstream
      }
    });

    it('a client that closes mid-body (a FIN, not a reset): the connection is let go', async () => {
      const { raw, tls: secure } = await connectTls('api.openai.com');
      const before = world.provider.requests.length;
      await new Promise<void>((resolve) => secure.write('POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\ncontent-length: 1000\r\n\r\n{"model":', () => resolve()));
      // A FIN, and nobody left to read the answer: the client's kernel resets whatever comes next.
      raw.destroy();
      await stillServes();
      expect(world.provider.requests.length).toBe(before + 1); // only stillServes' request went upstream
    });

    it('reset while the upstream is answering, and mid-stream', async () => {
      world.provider.knobs.holdAfterEvents = 1;
      try {
        for (const stream of [false, true]) {
          const { raw, tls: secure } = await connectTls('api.openai.com');
          secure.write(chat('api.openai.com', stream));
          if (stream) await new Promise((resolve) => secure.once('data', resolve));
          else await until(() => world.provider.requests.some((r) => r.host === 'api.openai.com' && (r.json as { stream?: boolean } | null)?.stream === false), 'the request to reach the origin');
          raw.resetAndDestroy();
          world.provider.release();
          await stillServes();
        }
      } finally {
        world.provider.reset();
      }
    });

    it('reset after an answer of the engine’s own (413)', async () => {
      const { raw, tls: secure } = await connectTls('api.openai.com');
      secure.write('POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\ncontent-type: application/json\r\ncontent-length: 999999999\r\n\r\n{');
      const head = await new Promise<string>((resolve) => secure.once('data', (d: Buffer) => resolve(d.toString('latin1'))));
      expect(head).toMatch(/^HTTP\/1\.1 413/);
      raw.resetAndDestroy();
      await stillServes();
    });

    it('the origin resets mid-stream, then the client resets too', async () => {
      world.provider.knobs.resetAfterEvents = 1;
      try {
        const { raw, tls: secure } = await connectTls('api.openai.com');
        secure.write(chat('api.openai.com', true));
        await new Promise((resolve) => secure.once('data', resolve));
        raw.resetAndDestroy();
      } finally {
        world.provider.reset();
      }
      await stillServes();
    });

    it('reset during a WebSocket upgrade, and after it', async () => {
      for (const target of ['api.openai.com', 'reset.example.org']) {
        const { raw, tls: secure } = await connectTls('api.openai.com');
        secure.write(`GET /v1/realtime HTTP/1.1\r\nHost: ${target}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`);
        await new Promise<void>((resolve) => secure.write('', () => resolve()));
        raw.resetAndDestroy();
      }
      const socket = await dial(proxyPort());
      socket.write('GET http://reset.example.org/ws HTTP/1.1\r\nHost: reset.example.org\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n', () => socket.resetAndDestroy());
      await stillServes();
    });
  });

  describe('the transparent door', () => {
    it('reset halfway through the ClientHello', async () => {
      const socket = await dial(transparentPort());
      const hello = await clientHello('api.openai.com');
      socket.write(hello.subarray(0, 20), () => socket.resetAndDestroy());
      await stillServes();
    });

    it('a client that half-closes halfway through its ClientHello is let go at once, not at the hello timeout', async () => {
      const socket = await dial(transparentPort());
      const hello = await clientHello('api.openai.com');
      socket.end(hello.subarray(0, 20));
      socket.resume();
      // The door's hello timeout is 10 s: a close well before it is the engine reacting to the FIN.
      await until(() => socket.readableEnded, 'the engine to close its side', 5_000);
      await stillServes();
    });

    it('reset after the ClientHello: blocked, intercepted (mid-handshake) and tunnelled hosts', async () => {
      for (const host of ['api.deepseek.com', 'api.openai.com', 'api.groq.com']) {
        const socket = await dial(transparentPort());
        socket.write(await clientHello(host));
        await firstData(socket).catch(() => null); // a blocked host gets a close, not bytes
        socket.resetAndDestroy();
      }
      await stillServes();
    });

    it('reset mid-stream on an intercepted connection', async () => {
      world.provider.knobs.holdAfterEvents = 1;
      try {
        const raw = await dial(transparentPort());
        const secure = tlsOver(raw, 'api.openai.com', world.ca.caPem);
        await new Promise((resolve) => secure.once('secureConnect', resolve));
        secure.write(chat('api.openai.com', true));
        await new Promise((resolve) => secure.once('data', resolve));
        raw.resetAndDestroy();
        world.provider.release();
      } finally {
        world.provider.reset();
      }
      await stillServes();
    });
  });

  describe('the PAC file and plain-HTTP forwarding', () => {
    it('reset mid-request and before the answer is read', async () => {
      for (const [text, waitForAnswer] of [
        ['GET /proxy.pac HTTP/1.1\r\nHo', false],
        ['GET /proxy.pac HTTP/1.1\r\nHost: x\r\n\r\n', true],
        ['POST http://plain.example.org/upload HTTP/1.1\r\nHost: plain.example.org\r\ncontent-length: 100\r\n\r\nabc', false],
        ['GET http://plain.example.org/ HTTP/1.1\r\nHost: plain.example.org\r\n\r\n', true],
      ] as const) {
        const socket = await dial(proxyPort());
        if (waitForAnswer) {
          socket.write(text);
          await firstData(socket);
          socket.resetAndDestroy();
        } else {
          socket.write(text, () => socket.resetAndDestroy());
        }
      }
      await stillServes();
    });
  });

  describe('the control API', () => {
    it('reset mid-request and before the answer is read; still answers its token holder', async () => {
      const port = Number(new URL(control.url).port);
      for (const [text, waitForAnswer] of [
        ['GET /metrics HTTP/1.1\r\nAuthori', false],
        [`GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n`, true],
        ['CONNECT api.openai.com:443 HTTP/1.1\r\nHost: x\r\n\r\n', false],
        ['GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n', false],
      ] as const) {
        const socket = await dial(port);
        if (waitForAnswer) {
          socket.write(text);
          await firstData(socket);
          socket.resetAndDestroy();
        } else {
          socket.write(text, () => socket.resetAndDestroy());
        }
      }
      const res = await fetch(`${control.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(await res.text()).toBe('outpost_up 1\n');
    });
  });
});
