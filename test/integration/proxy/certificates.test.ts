import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { connectTls, rawExchange, startWorld, testCertificates } from './harness.js';

describe('when no leaf can be issued', () => {
  it('fails open into a blind tunnel: the client meets the origin’s certificate', async () => {
    const world = await startWorld({ failMode: 'open', certificates: (ca) => testCertificates(ca, { fail: true }) });
    try {
      const socket = await connectTls(world.engine, 'api.openai.com:443', world.ca.caPem);
      const seen = socket.getPeerCertificate().fingerprint256;
      socket.destroy();
      const direct = tls.connect({ host: '127.0.0.1', port: world.provider.port, servername: 'api.openai.com', ca: world.ca.caPem });
      await new Promise((resolve, reject) => direct.once('secureConnect', resolve).once('error', reject));
      expect(seen).toBe(direct.getPeerCertificate().fingerprint256);
      direct.destroy();
    } finally {
      await world.close();
    }
  });

  it('fails closed by dropping the connection', async () => {
    const world = await startWorld({ failMode: 'closed', certificates: (ca) => testCertificates(ca, { fail: true }) });
    try {
      const reply = await rawExchange(world.engine, 'CONNECT api.openai.com:443 HTTP/1.1\r\nHost: api.openai.com:443\r\n\r\n');
      expect(reply.status).toBe(200);
      const socket = tls.connect({ socket: reply.socket, servername: 'api.openai.com', ca: world.ca.caPem });
      const error = await new Promise<Error>((resolve) => socket.once('error', resolve));
      expect(error.message).toMatch(/socket disconnected|ECONNRESET/);
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
