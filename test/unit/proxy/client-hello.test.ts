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

/** A ClientHello built by hand: `suites`, then extensions as [type, body] in order. */
function craftedHello(suites: number[], extensions: Array<[number, Buffer]>): Buffer {
  const ext = Buffer.concat(extensions.map(([type, body]) => Buffer.concat([u16(type), u16(body.length), body])));
  const suiteBytes = Buffer.concat(suites.map(u16));
  const body = Buffer.concat([Buffer.from([0x03, 0x03]), Buffer.alloc(32, 7), Buffer.from([0]), u16(suiteBytes.length), suiteBytes, Buffer.from([1, 0]), u16(ext.length), ext]);
  const handshake = Buffer.concat([Buffer.from([0x01, 0, body.length >> 8, body.length & 0xff]), body]);
  return Buffer.concat([Buffer.from([0x16, 0x03, 0x01]), u16(handshake.length), handshake]);
}

function u16(n: number): Buffer {
  return Buffer.from([n >> 8, n & 0xff]);
}

function sni(name: string): Buffer {
  const host = Buffer.from(name);
  return Buffer.concat([u16(host.length + 3), Buffer.from([0]), u16(host.length), host]);
}

function alpn(...protocols: string[]): Buffer {
  const list = Buffer.concat(protocols.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p)])));
  return Buffer.concat([u16(list.length), list]);
}

describe('what else a ClientHello says', () => {
  it('reads the ALPN list and tells whether Encrypted Client Hello is offered (the SNI is then the outer, public name)', () => {
    const hello = parseClientHello(craftedHello([0x1301, 0x1302], [[0x0000, sni('public.example')], [0x0010, alpn('h2', 'http/1.1')], [0xfe0d, Buffer.alloc(40, 1)]]));
    expect(hello).toMatchObject({ kind: 'hello', servername: 'public.example', alpn: ['h2', 'http/1.1'], ech: true });
  });

  it('gives a ClientHello without SNI a null server name, not an error', () => {
    expect(parseClientHello(craftedHello([0x1301], [[0x0010, alpn('http/1.1')]]))).toMatchObject({ kind: 'hello', servername: null, alpn: ['http/1.1'] });
  });

  it('fingerprints the TLS stack: the same for one client whatever the order, GREASE or name, different for another stack', () => {
    const a = parseClientHello(craftedHello([0x1301, 0x1302, 0x1a1a], [[0x0000, sni('a.example')], [0x000a, Buffer.from([0, 2, 0, 29])], [0x2a2a, Buffer.alloc(0)], [0x002b, Buffer.from([2, 3, 4])]]));
    const b = parseClientHello(craftedHello([0x5a5a, 0x1302, 0x1301], [[0x002b, Buffer.from([2, 3, 4])], [0x000a, Buffer.from([0, 2, 0, 29])], [0x0000, sni('b.example')]]));
    const other = parseClientHello(craftedHello([0x1301], [[0x0000, sni('a.example')], [0x000a, Buffer.from([0, 2, 0, 29])]]));
    expect(a.kind === 'hello' && b.kind === 'hello' && a.fingerprint).toBe(b.kind === 'hello' && b.fingerprint);
    expect(other.kind === 'hello' && other.fingerprint).not.toBe(a.kind === 'hello' && a.fingerprint);
  });

  it('fingerprints Node\'s own client the same on every connection', async () => {
    const one = parseClientHello(await realHello('api.openai.com'));
    const two = parseClientHello(await realHello('api.anthropic.com'));
    expect(one.kind === 'hello' && one.fingerprint).toBe(two.kind === 'hello' && two.fingerprint);
  });
});
