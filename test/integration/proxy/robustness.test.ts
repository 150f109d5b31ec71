import { spawn } from 'node:child_process';
import net from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatcherFor } from '../../support/clients.js';
import { rawExchange, startWorld, until, type ProxyWorld } from './harness.js';

/** Reads everything the engine sends until it closes the socket. */
async function readAll(socket: net.Socket): Promise<string> {
  let text = '';
  socket.on('error', () => {});
  for await (const chunk of socket) text += (chunk as Buffer).toString('latin1');
  return text;
}

describe('bad input never takes the agent down', () => {
  let world: ProxyWorld;
  let dispatcher: ReturnType<typeof dispatcherFor>;
  /** The agent still serves a governed request. */
  const stillServes = async (): Promise<void> => {
    const res = await request('https://api.openai.com/v1/models', { dispatcher });
    expect(res.statusCode).toBe(200);
    await res.body.text();
  };

  beforeAll(async () => {
    world = await startWorld({
      resolve: { 'api.mistral.ai': '127.0.0.1:1' },
      // Short enough to watch a slowloris being cut off within a test.
      engine: { timeouts: { headersMs: 400, checkIntervalMs: 100 } },
    });
    dispatcher = dispatcherFor({ proxyUrl: world.engine.url, ca: world.ca.caPem });
  });
  afterAll(async () => {
    await dispatcher.close();
    await world.close();
  });

  it('answers garbage bytes 400 and closes', async () => {
    const socket = net.connect(world.engine.address.port, '127.0.0.1');
    socket.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x00, 0x13, 0x37, 0x0d, 0x0a, 0x0d, 0x0a]));
    expect(await readAll(socket)).toMatch(/^HTTP\/1\.1 400/);
    await stillServes();
  });

  it('refuses a CONNECT to nonsense with 400', async () => {
    for (const authority of ['!!!:443', 'api.openai.com:99999', 'api.openai.com', '[zz::1]:443', `${'a'.repeat(400)}:443`]) {
      const reply = await rawExchange(world.engine, `CONNECT ${authority} HTTP/1.1\r\nHost: x\r\n\r\n`);
      reply.socket.destroy();
      expect(reply.status, authority).toBe(400);
    }
    await stillServes();
  });

  it('refuses a CONNECT to the agent itself (a loop) with 508', async () => {
    const port = world.engine.address.port;
    for (const authority of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]) {
      const reply = await rawExchange(world.engine, `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
      reply.socket.destroy();
      expect(reply.status, authority).toBe(508);
    }
    const forward = await rawExchange(world.engine, `GET http://127.0.0.1:${port}/proxy.pac HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    forward.socket.destroy();
    expect(forward.status).toBe(508);
  });

  it('answers oversized headers 431', async () => {
    const reply = await rawExchange(world.engine, `CONNECT api.openai.com:443 HTTP/1.1\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`).catch((err: Error) => err);
    // Node answers 431 once the head passes its limit; a client still writing may see the close first.
    if (!(reply instanceof Error)) {
      reply.socket.destroy();
      expect(reply.status).toBe(431);
    }
    await stillServes();
  });

  it('cuts off a slowloris that never finishes its head', async () => {
    const socket = net.connect(world.engine.address.port, '127.0.0.1');
    socket.write('CONNECT api.openai.com:443 HTTP/1.1\r\n');
    const drip = setInterval(() => socket.write('X-a: b\r\n'), 50);
    const text = await readAll(socket);
    clearInterval(drip);
    expect(text).toMatch(/^HTTP\/1\.1 408/);
  });

  it('closes half-open sockets and forgets them', async () => {
    // The previous test's connection may still be closing: start from a quiet engine (at most the
    // shared client's kept-alive connection).
    await until(() => world.engine.stats().connections <= 1, 'earlier connections to be released');
    const before = world.engine.stats().connections;
    const socket = net.connect(world.engine.address.port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    await until(() => world.engine.stats().connections === before + 1, 'the connection to be counted');
    socket.end('GET http://plain.example.org/ HTTP/1.1\r\nHost: plai');
    await readAll(socket);
    await until(() => world.engine.stats().connections <= before, 'the connection to be released');
  });

  it('answers 502 in the provider’s shape when the upstream refuses', async () => {
    const res = await request('https://api.mistral.ai/v1/models', { dispatcher });
    expect(res.statusCode).toBe(502);
    expect(((await res.body.json()) as { error: { type: string } }).error.type).toBe('upstream_error');
    await stillServes();
  });

  it('answers a tunnel to a refusing host 502', async () => {
    const reply = await rawExchange(world.engine, 'CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n');
    reply.socket.destroy();
    expect(reply.status).toBe(502);
  });
});

describe('10,000 idle connections', () => {
  let world: ProxyWorld;
  beforeAll(async () => {
    world = await startWorld();
  });
  afterAll(async () => {
    await world.close();
  });

  it('holds them and still serves requests', { timeout: 90_000 }, async () => {
    const count = 10_000;
    // The idle clients live in a child process: both ends in one process would need 20,000 descriptors.
    const child = spawn(
      process.execPath,
      [
        '-e',
        `const net = require('node:net'); let open = 0; const all = [];
         for (let i = 0; i < ${count}; i++) { const s = net.connect(${world.engine.address.port}, '127.0.0.1');
           s.on('connect', () => { if (++open === ${count}) process.stdout.write('ready\\n'); }); s.on('error', (e) => { process.stdout.write('error ' + e.code + '\\n'); }); all.push(s); }
         process.stdin.on('end', () => process.exit(0)); process.stdin.resume();`,
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    try {
      const first = await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString())));
      expect(first.trim()).toBe('ready');
      await until(() => world.engine.stats().connections >= count, 'every idle connection to be accepted', 30_000);
      const dispatcher = dispatcherFor({ proxyUrl: world.engine.url, ca: world.ca.caPem });
      const res = await request('https://api.openai.com/v1/models', { dispatcher });
      expect(res.statusCode).toBe(200);
      await res.body.text();
      await dispatcher.close();
    } finally {
      child.stdin.end();
      await new Promise((r) => child.once('exit', r));
    }
    await until(() => world.engine.stats().connections === 0, 'the idle connections to be released', 30_000);
  });
});
