import https from 'node:https';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCa, type TestCa } from '../../support/test-ca.js';
import { connectTls, rawExchange, startWorld, type ProxyWorld } from './harness.js';

/** The fingerprint of the certificate a server presents when asked directly. */
async function originFingerprint(port: number, servername: string, ca: string): Promise<string> {
  const socket = tls.connect({ host: '127.0.0.1', port, servername, ca });
  await new Promise((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
  const fp = socket.getPeerCertificate().fingerprint256;
  socket.destroy();
  return fp;
}

describe('host classification before any TLS work', () => {
  let world: ProxyWorld;
  let otherCa: TestCa;
  let origin: https.Server;
  let originPort = 0;

  beforeAll(async () => {
    otherCa = await createTestCa('Some Origin CA');
    const leaf = otherCa.issue(['news.example.org']);
    origin = https.createServer({ cert: leaf.cert, key: leaf.key }, (_req, res) => res.end('origin says hi'));
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
    originPort = (origin.address() as AddressInfo).port;
    world = await startWorld({
      hosts: ['api.openai.com', '*.openai.azure.com', 'api.mistral.ai'],
      bypassHosts: ['api.mistral.ai'],
      blockedHosts: ['api.deepseek.com'],
      resolve: { 'news.example.org': `127.0.0.1:${originPort}` },
    });
  });
  afterAll(async () => {
    await world.close();
    origin.close();
    await otherCa.dispose();
  });

  it('tunnels a non-policy host: the client sees the origin’s own certificate', async () => {
    const socket = await connectTls(world.engine, 'news.example.org:443', otherCa.caPem);
    const seen = socket.getPeerCertificate().fingerprint256;
    socket.destroy();
    expect(seen).toBe(await originFingerprint(originPort, 'news.example.org', otherCa.caPem));
    expect(world.engine.stats().tunnelled).toBeGreaterThan(0);
  });

  it('tunnels a bypassed AI host instead of decrypting it', async () => {
    const socket = await connectTls(world.engine, 'api.mistral.ai:443', world.ca.caPem);
    const seen = socket.getPeerCertificate().fingerprint256;
    socket.destroy();
    expect(seen).toBe(await originFingerprint(world.provider.port, 'api.mistral.ai', world.ca.caPem));
  });

  it('intercepts a policy host (and a wildcard match) with a leaf of its own', async () => {
    for (const host of ['api.openai.com', 'east.openai.azure.com']) {
      const socket = await connectTls(world.engine, `${host}:443`, world.ca.caPem);
      const cert = socket.getPeerCertificate();
      socket.destroy();
      expect(cert.subjectaltname).toContain(`DNS:${host}`);
      expect(cert.fingerprint256).not.toBe(await originFingerprint(world.provider.port, host, world.ca.caPem));
    }
  });

  it('offers h2 and HTTP/1.1 over ALPN on intercepted connections (issue 18), and HTTP/1.1 alone to a client that offers only that', async () => {
    const { rawExchange: raw } = await import('./harness.js');
    const chosen = async (offer: string[]): Promise<string | false | null> => {
      const reply = await raw(world.engine, 'CONNECT api.openai.com:443 HTTP/1.1\r\nHost: api.openai.com:443\r\n\r\n');
      const socket = tls.connect({ socket: reply.socket, servername: 'api.openai.com', ca: world.ca.caPem, ALPNProtocols: offer });
      await new Promise((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
      socket.destroy();
      return socket.alpnProtocol;
    };
    expect(await chosen(['h2', 'http/1.1'])).toBe('h2');
    expect(await chosen(['http/1.1', 'h2'])).toBe('h2');
    expect(await chosen(['http/1.1'])).toBe('http/1.1');
  });

  it('offers HTTP/1.1 only when the engine is started with http2 off', async () => {
    const { rawExchange: raw, startWorld: start } = await import('./harness.js');
    const h1 = await start({ engine: { http2: false } });
    try {
      const reply = await raw(h1.engine, 'CONNECT api.openai.com:443 HTTP/1.1\r\nHost: api.openai.com:443\r\n\r\n');
      const socket = tls.connect({ socket: reply.socket, servername: 'api.openai.com', ca: h1.ca.caPem, ALPNProtocols: ['h2', 'http/1.1'] });
      await new Promise((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
      expect(socket.alpnProtocol).toBe('http/1.1');
      socket.destroy();
    } finally {
      await h1.close();
    }
  });

  it('answers a blocked host’s CONNECT 403 with a short reason, and records it', async () => {
    const before = world.events.length;
    const reply = await rawExchange(world.engine, 'CONNECT api.deepseek.com:443 HTTP/1.1\r\nHost: api.deepseek.com:443\r\nUser-Agent: shadow-app/1.0\r\n\r\n');
    reply.socket.destroy();
    expect(reply.status).toBe(403);
    expect(reply.rest.toString()).toContain('api.deepseek.com is not an approved AI service');
    expect(world.events.slice(before)).toEqual([expect.objectContaining({ host: 'api.deepseek.com', outcome: 'blocked', app: 'shadow-app/1.0' })]);
    expect(world.engine.stats().blocked).toBe(1);
  });
});
