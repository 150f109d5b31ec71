import type { Socket } from 'node:net';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { connectTls, rawExchange, startWorld, testCertificates } from './harness.js';

/** A TLS client through the CONNECT reply's socket; resolves with the error it met. */
function handshakeError(socket: Socket, ca: string): Promise<Error> {
  const client = tls.connect({ socket, servername: 'api.openai.com', ca });
  return new Promise<Error>((resolve) => {
    client.once('error', resolve);
    client.once('secureConnect', () => resolve(new Error('handshake completed')));
  });
}

describe('when no leaf can be issued for a host the policy intercepts', () => {
  for (const failMode of ['open', 'closed'] as const) {
    it(`refuses the CONNECT with 502 and the reason, audited, never tunnelled (fail ${failMode})`, async () => {
      const world = await startWorld({ failMode, certificates: (ca) => testCertificates(ca, { refuse: true }) });
      try {
        const reply = await rawExchange(world.engine, 'CONNECT api.openai.com:443 HTTP/1.1\r\nHost: api.openai.com:443\r\nUser-Agent: probe/1\r\n\r\n');
        expect(reply.status).toBe(502);
        const body = await new Promise<string>((resolve) => {
          let text = reply.rest.toString();
          reply.socket.on('data', (d: Buffer) => (text += d.toString()));
          reply.socket.once('close', () => resolve(text));
          reply.socket.resume();
        });
        expect(body).toContain(`Outpost cannot decrypt api.openai.com, which your organisation's policy governs (the CA's name constraints do not cover "api.openai.com")`);
        expect(world.events).toEqual([expect.objectContaining({ host: 'api.openai.com', port: 443, outcome: 'uncertified', app: 'probe/1' })]);
        expect(world.engine.stats()).toMatchObject({ tunnelled: 0, intercepted: 0, blocked: 1 });
        expect(world.provider.requests).toHaveLength(0);
      } finally {
        await world.close();
      }
    });

    it(`drops the connection, audited, when the leaf fails after the CONNECT was answered (fail ${failMode})`, async () => {
      const world = await startWorld({ failMode, certificates: (ca) => testCertificates(ca, { fail: true }) });
      try {
        const reply = await rawExchange(world.engine, 'CONNECT api.openai.com:443 HTTP/1.1\r\nHost: api.openai.com:443\r\n\r\n');
        expect(reply.status).toBe(200);
        // Before, fail open tunnelled here: the client met the provider's own certificate, ungoverned.
        const error = await handshakeError(reply.socket, world.ca.caPem);
        expect(error.message).toMatch(/socket disconnected|ECONNRESET/);
        expect(world.events).toEqual([expect.objectContaining({ host: 'api.openai.com', outcome: 'uncertified', reason: expect.stringContaining('no leaf for you') })]);
        expect(world.engine.stats().tunnelled).toBe(0);
      } finally {
        await world.close();
      }
    });
  }

  it('closes a transparent-door connection it cannot sign for, audited', async () => {
    const world = await startWorld({ transparent: true, certificates: (ca) => testCertificates(ca, { refuse: true }) });
    try {
      const client = tls.connect({ host: '127.0.0.1', port: world.engine.transparentPort ?? 0, servername: 'api.openai.com', ca: world.ca.caPem });
      const error = await new Promise<Error>((resolve) => client.once('error', resolve));
      expect(error.message).toMatch(/socket disconnected|ECONNRESET/);
      expect(world.events).toEqual([expect.objectContaining({ host: 'api.openai.com', outcome: 'uncertified' })]);
    } finally {
      await world.close();
    }
  });

  it('serves a leaf that arrives later (the promise path) just the same', async () => {
    const world = await startWorld({ certificates: (ca) => testCertificates(ca, { async: true }) });
    try {
      const socket = await connectTls(world.engine, 'api.openai.com:443', world.ca.caPem);
      expect(socket.getPeerCertificate().subjectaltname).toContain('DNS:api.openai.com');
      socket.destroy();
    } finally {
      await world.close();
    }
  });
});
