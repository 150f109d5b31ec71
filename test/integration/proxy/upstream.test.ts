import http from 'node:http';
import net from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatcherFor } from '../../support/clients.js';
import { connectTls, startWorld } from './harness.js';

/** A corporate proxy: CONNECT only, Basic credentials required; records what it was asked. */
async function startCorporateProxy(user: string, pass: string): Promise<{ url: (u: string, p: string) => string; connects: string[]; close(): void }> {
  const connects: string[] = [];
  const expected = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
  const server = http.createServer((_req, res) => res.writeHead(405).end());
  server.on('connect', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    if (req.headers['proxy-authorization'] !== expected) {
      socket.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="corp"\r\n\r\n');
      return;
    }
    connects.push(req.url ?? '');
    const [host, port] = (req.url ?? '').split(':');
    const upstream = net.connect(Number(port), host, () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: (u, p) => `http://${encodeURIComponent(u)}:${encodeURIComponent(p)}@127.0.0.1:${port}`,
    connects,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

describe('the upstream side', () => {
  let corp: Awaited<ReturnType<typeof startCorporateProxy>>;
  beforeAll(async () => {
    corp = await startCorporateProxy('alice', 'p@ss:word');
  });
  afterAll(() => corp.close());

  it('goes through the corporate proxy, with its credentials, for intercepted and tunnelled hosts', async () => {
    const world = await startWorld({ upstreamProxy: corp.url('alice', 'p@ss:word') });
    const dispatcher = dispatcherFor({ proxyUrl: world.engine.url, ca: world.ca.caPem });
    try {
      const res = await request('https://api.openai.com/v1/models', { dispatcher });
      expect(res.statusCode).toBe(200);
      await res.body.text();
      // api.openai.com resolves (upstream.resolve) to the fake; the corporate proxy is asked for that address.
      expect(corp.connects).toContain(`127.0.0.1:${world.provider.port}`);
      const before = corp.connects.length;
      const tunnelled = await connectTls(world.engine, 'api.groq.com:443', world.ca.caPem);
      tunnelled.destroy();
      expect(corp.connects.length).toBe(before + 1);
    } finally {
      await dispatcher.close();
      await world.close();
    }
  });

  it('negotiates HTTP/2 with the provider through the corporate proxy (ALPN on the tunnel), issue 18.2', async () => {
    const world = await startWorld({ upstreamProxy: corp.url('alice', 'p@ss:word'), providerHttp2: true, upstreamHttp2: true });
    const dispatcher = dispatcherFor({ proxyUrl: world.engine.url, ca: world.ca.caPem });
    try {
      const res = await request('https://api.openai.com/v1/models', { dispatcher });
      expect(res.statusCode).toBe(200);
      await res.body.text();
      expect(corp.connects).toContain(`127.0.0.1:${world.provider.port}`);
      expect(world.provider.requests.at(-1)?.httpVersion).toBe('2.0');
    } finally {
      await dispatcher.close();
      await world.close();
    }
  });

  it('answers 502 when the corporate proxy refuses the credentials', async () => {
    const world = await startWorld({ upstreamProxy: corp.url('alice', 'wrong') });
    const dispatcher = dispatcherFor({ proxyUrl: world.engine.url, ca: world.ca.caPem });
    try {
      const res = await request('https://api.openai.com/v1/models', { dispatcher });
      expect(res.statusCode).toBe(502);
      expect(((await res.body.json()) as { error: { message: string } }).error.message).toContain('407');
    } finally {
      await dispatcher.close();
      await world.close();
    }
  });

  it('trusts upstream.caFile beside the OS store, and nothing else', async () => {
    const world = await startWorld({ upstreamCaFile: null });
    const dispatcher = dispatcherFor({ proxyUrl: world.engine.url, ca: world.ca.caPem });
    try {
      // Without the test CA in caFile the fake provider's certificate is not trusted.
      const res = await request('https://api.openai.com/v1/models', { dispatcher });
      expect(res.statusCode).toBe(502);
      await res.body.text();
    } finally {
      await dispatcher.close();
      await world.close();
    }
  });
});
