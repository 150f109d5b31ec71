import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { Agent, buildConnector, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorld, until, type ProxyWorld } from './harness.js';

describe('the transparent (SNI) front door', () => {
  let world: ProxyWorld;
  let port = 0;
  beforeAll(async () => {
    world = await startWorld({ transparent: true, bypassHosts: ['api.mistral.ai'] });
    port = world.engine.transparentPort ?? 0;
  });
  afterAll(async () => {
    await world.close();
  });

  /** TLS straight to the transparent port, as a redirected client would connect. */
  const hello = (servername: string, ca: string): tls.TLSSocket => tls.connect({ host: '127.0.0.1', port, servername, ca });

  it('intercepts a policy host named in the ClientHello and serves its requests', async () => {
    const base = buildConnector({ ca: [world.ca.caPem] });
    const dispatcher = new Agent({ connect: (opts, cb) => base({ ...opts, hostname: '127.0.0.1', port: String(port), servername: opts.hostname }, cb) });
    try {
      const res = await request('https://api.openai.com/v1/models', { dispatcher });
      expect(res.statusCode).toBe(200);
      expect(res.headers['x-outpost-decision']).toBe('allow');
      await res.body.text();
      expect(world.provider.requests.at(-1)?.host).toBe('api.openai.com');
    } finally {
      await dispatcher.close();
    }
  });

  it('negotiates HTTP/2 as the proxy door does (issue 18.4): an h2 client is served over h2', async () => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'api.openai.com', ca: world.ca.caPem, ALPNProtocols: ['h2', 'http/1.1'] });
    await new Promise((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    expect(socket.alpnProtocol).toBe('h2');
    const session = http2.connect('https://api.openai.com', { createConnection: () => socket });
    try {
      const stream = session.request({ ':method': 'GET', ':path': '/v1/models' });
      stream.end();
      const status = await new Promise<number>((resolve, reject) => stream.once('response', (h) => resolve(Number(h[':status']))).once('error', reject));
      stream.resume();
      await new Promise((resolve) => stream.once('end', resolve));
      expect(status).toBe(200);
      expect(world.provider.requests.at(-1)?.host).toBe('api.openai.com');
    } finally {
      session.close();
    }
  });

  it('tunnels a bypassed host: the client meets the origin’s certificate', async () => {
    const socket = hello('api.mistral.ai', world.ca.caPem);
    await new Promise((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    const seen = socket.getPeerCertificate().fingerprint256;
    socket.destroy();
    const direct = tls.connect({ host: '127.0.0.1', port: world.provider.port, servername: 'api.mistral.ai', ca: world.ca.caPem });
    await new Promise((resolve, reject) => direct.once('secureConnect', resolve).once('error', reject));
    expect(seen).toBe(direct.getPeerCertificate().fingerprint256);
    direct.destroy();
  });

  it('drops a blocked host and records it', async () => {
    const socket = hello('api.deepseek.com', world.ca.caPem);
    const error = await new Promise<Error>((resolve) => socket.once('error', resolve));
    expect(error.message).toMatch(/socket disconnected|ECONNRESET/);
    await until(() => world.events.some((e) => e.host === 'api.deepseek.com' && e.outcome === 'blocked' && e.door === 'transparent'), 'the blocked event, through the transparent door');
  });

  it('drops a connection that starts with neither a ClientHello nor an HTTP request', async () => {
    const socket = net.connect(port, '127.0.0.1');
    socket.write('SSH-2.0-OpenSSH_9.6\r\n\r\n');
    socket.resume();
    await new Promise((resolve) => socket.once('close', resolve));
  });

  it('answers plain HTTP to a blocked host 403 by its Host header, and records it', async () => {
    const socket = net.connect(port, '127.0.0.1');
    socket.write('GET /v1/models HTTP/1.1\r\nHost: api.deepseek.com\r\n\r\n');
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    await new Promise((resolve) => socket.once('close', resolve));
    expect(answer).toMatch(/^HTTP\/1\.1 403 /);
    await until(() => world.events.some((e) => e.host === 'api.deepseek.com' && e.port === 80 && e.outcome === 'blocked' && e.door === 'transparent'), 'the blocked event');
  });
});
