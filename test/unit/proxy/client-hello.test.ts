import net from 'node:net';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { parseClientHello } from '../../../agent/proxy/client-hello.js';

/** The ClientHello Node's own TLS client sends for `servername`. */
async function realHello(servername: string): Promise<Buffer> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const got = new Promise<Buffer>((resolve) => server.once('connection', (s) => s.once('data', (d: Buffer) => { resolve(d); s.destroy(); })));
  const client = tls.connect({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port, servername });
  client.on('error', () => {});
  const data = await got;
  client.destroy();
  server.close();
  return data;
}

describe('reading SNI from a ClientHello', () => {
  it('finds the server name, lower-cased', async () => {
    expect(parseClientHello(await realHello('API.OpenAI.com'))).toMatchObject({ kind: 'hello', servername: 'api.openai.com', ech: false });
  });

  it('asks for more bytes until the record is complete', async () => {
    const full = await realHello('api.anthropic.com');
    expect(parseClientHello(full.subarray(0, 3)).kind).toBe('partial');
    expect(parseClientHello(full.subarray(0, full.length - 1)).kind).toBe('partial');
  });

  it('refuses what is not a ClientHello', () => {
    expect(parseClientHello(Buffer.from('GET / HTTP/1.1\r\n\r\n')).kind).toBe('invalid');
    expect(parseClientHello(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x01, 0x02])).kind).toBe('invalid');
  });
});
