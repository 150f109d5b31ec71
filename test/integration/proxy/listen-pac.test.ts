import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import vm from 'node:vm';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorld, type ProxyWorld } from './harness.js';

/** Runs a PAC file the way a browser does, with the PAC helper it uses. */
function pacRoute(pac: string, host: string): string {
  const sandbox: Record<string, unknown> = {
    dnsDomainIs: (h: string, domain: string) => h.length > domain.length && h.endsWith(domain),
  };
  vm.runInNewContext(pac, sandbox);
  return (sandbox.FindProxyForURL as (url: string, host: string) => string)(`https://${host}/`, host);
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

describe('listeners', () => {
  let world: ProxyWorld;
  beforeAll(async () => {
    world = await startWorld();
  });
  afterAll(async () => {
    await world.close();
  });

  it('listens on 127.0.0.1 and ::1, and on no other address', async () => {
    const { port } = world.engine.address;
    expect(await canConnect('127.0.0.1', port)).toBe(true);
    expect(await canConnect('::1', port)).toBe(true);
    const external = Object.values(os.networkInterfaces())
      .flat()
      .filter((i) => i !== undefined && !i.internal && i.family === 'IPv4');
    for (const i of external) expect(await canConnect(i!.address, port)).toBe(false);
  });
});

describe('the PAC file', () => {
  let open: ProxyWorld;
  let closed: ProxyWorld;
  beforeAll(async () => {
    const lists = { hosts: ['api.openai.com', '*.openai.azure.com'], blockedHosts: ['api.deepseek.com'], bypassHosts: ['chat.openai.azure.com'] };
    open = await startWorld(lists);
    closed = await startWorld({ ...lists, failMode: 'closed', engine: { pacFallback: 'PROXY corp.example:3128' } });
  });
  afterAll(async () => {
    await open.close();
    await closed.close();
  });

  it('routes only AI hosts to the agent, with `; DIRECT` when fail-open', async () => {
    const res = await request(`${open.engine.url}/proxy.pac`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-ns-proxy-autoconfig');
    const pac = await res.body.text();
    const agent = `PROXY 127.0.0.1:${open.engine.address.port}; DIRECT`;
    expect(pacRoute(pac, 'api.openai.com')).toBe(agent);
    expect(pacRoute(pac, 'east.openai.azure.com')).toBe(agent);
    expect(pacRoute(pac, 'api.deepseek.com')).toBe(agent);
    expect(pacRoute(pac, 'chat.openai.azure.com')).toBe('DIRECT');
    expect(pacRoute(pac, 'openai.azure.com')).toBe('DIRECT');
    expect(pacRoute(pac, 'www.example.com')).toBe('DIRECT');
  });

  it('omits `; DIRECT` when fail-closed, and keeps the previous proxy for other hosts', async () => {
    const pac = await (await request(`${closed.engine.url}/proxy.pac`)).body.text();
    expect(pacRoute(pac, 'api.openai.com')).toBe(`PROXY 127.0.0.1:${closed.engine.address.port}`);
    expect(pacRoute(pac, 'www.example.com')).toBe('PROXY corp.example:3128');
  });
});

describe('plain-HTTP forward proxying', () => {
  let world: ProxyWorld;
  let origin: http.Server;
  beforeAll(async () => {
    origin = http.createServer((req, res) => {
      res.setHeader('x-seen-path', req.url ?? '');
      res.setHeader('x-seen-private', req.headers['x-private'] ?? 'none');
      res.end(`plain ${req.method}`);
    });
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
    const port = (origin.address() as net.AddressInfo).port;
    world = await startWorld({ resolve: { 'plain.example.org': `127.0.0.1:${port}` } });
  });
  afterAll(async () => {
    await world.close();
    origin.close();
  });

  it('forwards absolute-form requests and strips hop-by-hop headers', async () => {
    const socket = net.connect(world.engine.address.port, '127.0.0.1');
    socket.write('GET http://plain.example.org/a/b?c=d HTTP/1.1\r\nHost: plain.example.org\r\nProxy-Connection: keep-alive\r\nConnection: close, x-private\r\nX-Private: secret\r\n\r\n');
    let text = '';
    for await (const chunk of socket) text += (chunk as Buffer).toString();
    expect(text).toMatch(/^HTTP\/1\.1 200/);
    expect(text).toContain('x-seen-path: /a/b?c=d');
    expect(text).toContain('x-seen-private: none');
    expect(text).toContain('plain GET');
  });

  it('refuses a blocked host over plain HTTP too', async () => {
    const socket = net.connect(world.engine.address.port, '127.0.0.1');
    socket.write('GET http://api.deepseek.com/v1/models HTTP/1.1\r\nHost: api.deepseek.com\r\nConnection: close\r\n\r\n');
    let text = '';
    for await (const chunk of socket) text += (chunk as Buffer).toString();
    expect(text).toMatch(/^HTTP\/1\.1 403/);
  });
});
