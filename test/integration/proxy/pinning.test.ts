/**
 * Pinned clients (issue 10.2): only a real ClientHello that then rejects the agent's certificate
 * counts; the pin is the client's (User-Agent and TLS fingerprint), never the host's; the policy
 * decides between tunnelling that client and refusing it; every pinned connection is audited.
 */
import { execFile } from 'node:child_process';
import net from 'node:net';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCa, type TestCa } from '../../support/test-ca.js';
import { readHead, startWorld, until, type ProxyWorld, type WorldOptions } from './harness.js';

const run = promisify(execFile);

/** curl through the agent, trusting `caFile` only; resolves to curl's exit code. */
async function curl(world: ProxyWorld, url: string, caFile: string, agent = 'pinned-app/1.0'): Promise<number> {
  try {
    await run('curl', ['-sS', '-o', '/dev/null', '--http1.1', '--max-time', '10', '-A', agent, '--proxy', world.engine.url, '--cacert', caFile, url]);
    return 0;
  } catch (err) {
    return (err as { code: number }).code;
  }
}

/** The leaf a Node TLS client (another TLS stack than curl's) meets through a CONNECT to `host`. */
async function leafSeenByNode(world: ProxyWorld, host: string): Promise<string> {
  const socket = net.connect(world.engine.address.port, '127.0.0.1');
  socket.write(`CONNECT ${host}:443 HTTP/1.1\r\nHost: ${host}:443\r\nUser-Agent: node-app\r\n\r\n`);
  const reply = await readHead(socket);
  expect(reply.status).toBe(200);
  const secure = tls.connect({ socket: reply.socket, servername: host, ca: world.ca.caPem });
  await new Promise<void>((resolve, reject) => {
    secure.once('secureConnect', resolve);
    secure.once('error', reject);
  });
  const fingerprint = secure.getPeerCertificate().fingerprint256;
  secure.destroy();
  return fingerprint;
}

/** The fake provider's own certificate for `host` (what a tunnelled client meets). */
function originLeaf(world: ProxyWorld, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port: world.provider.port, servername: host, ca: world.ca.caPem });
    s.once('secureConnect', () => {
      resolve(s.getPeerCertificate().fingerprint256);
      s.destroy();
    });
    s.once('error', reject);
  });
}

async function pinnedWorld(options: WorldOptions = {}): Promise<{ world: ProxyWorld; stranger: TestCa }> {
  const world = await startWorld({ engine: { pinning: { threshold: 2 } }, ...options });
  // A client that trusts some other root behaves like an app pinning its provider's certificate.
  return { world, stranger: await createTestCa('Not The Outpost CA') };
}

describe('pinned clients', () => {
  let world: ProxyWorld;
  let stranger: TestCa;
  beforeAll(async () => {
    ({ world, stranger } = await pinnedWorld());
  });
  afterAll(async () => {
    await world.close();
    await stranger.dispose();
  });

  it('tunnels the pinning client alone, reports it, and keeps governing every other client of the host', async () => {
    expect(await curl(world, 'https://api.openai.com/v1/models', stranger.caFile)).toBe(60);
    await until(() => world.engine.stats().intercepted === 1, 'the first abort');
    expect(world.engine.stats().pinnedClients).toEqual([]);
    expect(await curl(world, 'https://api.openai.com/v1/models', stranger.caFile)).toBe(60);
    await until(() => world.engine.stats().pinnedClients.length === 1, 'the client to be declared pinned');
    const [pin] = world.engine.stats().pinnedClients;
    expect(pin).toMatchObject({ host: 'api.openai.com', aborts: 2 });
    expect(pin?.client).toContain('pinned-app/1.0');
    expect(pin!.expiresAt).toBeGreaterThan(pin!.since);
    expect(world.engine.stats().pinnedHosts).toEqual(['api.openai.com']);
    expect(world.events).toEqual([expect.objectContaining({ host: 'api.openai.com', outcome: 'pinned' })]);
    expect(world.events[0]?.reason).toContain('UNKNOWN_CA');

    // The same client (same User-Agent, same TLS stack) is now tunnelled: it meets the origin's
    // certificate, so a client trusting the origin's CA gets through, and the connection is audited.
    const before = world.engine.stats();
    expect(await curl(world, 'https://api.openai.com/v1/models', world.ca.caFile)).toBe(0);
    const after = world.engine.stats();
    expect(after.intercepted).toBe(before.intercepted);
    expect(after.tunnelled).toBe(before.tunnelled + 1);
    expect(world.events.at(-1)).toMatchObject({ host: 'api.openai.com', outcome: 'bypass', attempt: { kind: 'pinned-client', action: 'tunnelled' } });
    expect(after.bypass.counts).toContainEqual({ kind: 'pinned-client', action: 'tunnelled', count: 1 });

    // Another client of the same host (another User-Agent, another TLS stack) is still intercepted.
    const seen = await leafSeenByNode(world, 'api.openai.com');
    expect(seen).not.toBe(await originLeaf(world, 'api.openai.com'));
    expect(world.engine.stats().intercepted).toBe(after.intercepted + 1);
    // And curl under another name is another client too.
    const beforeOther = world.engine.stats().intercepted;
    expect(await curl(world, 'https://api.openai.com/v1/models', world.ca.caFile, 'other-tool/2.0')).toBe(0);
    expect(world.engine.stats().intercepted).toBe(beforeOther + 1);
  });

  it('never counts bytes that are not a ClientHello: three CONNECTs that send junk and close change nothing', async () => {
    const fresh = await startWorld({ engine: { pinning: { threshold: 3 } } });
    try {
      for (let i = 0; i < 3; i++) {
        const socket = net.connect(fresh.engine.address.port, '127.0.0.1');
        socket.write('CONNECT api.openai.com:443 HTTP/1.1\r\nHost: api.openai.com:443\r\n\r\n');
        const reply = await readHead(socket);
        expect(reply.status).toBe(200);
        const closed = new Promise((resolve) => reply.socket.once('close', resolve));
        reply.socket.resume();
        reply.socket.end('GET / HTTP/1.1\r\nHost: api.openai.com\r\n\r\n');
        await closed;
      }
      await until(() => fresh.events.length === 3, 'three not-tls records');
      expect(fresh.events.map((e) => e.attempt)).toEqual(Array(3).fill({ kind: 'not-tls', action: 'blocked' }));
      expect(fresh.engine.stats().pinnedClients).toEqual([]);
      // Governance stays on for everyone: a client that trusts the agent meets the agent's leaf.
      expect(await leafSeenByNode(fresh, 'api.openai.com')).not.toBe(await originLeaf(fresh, 'api.openai.com'));
    } finally {
      await fresh.close();
    }
  });

  it('refuses a pinned client when the policy says pinnedClients: block', async () => {
    const { world: strict, stranger: other } = await pinnedWorld({ bypassPolicy: { pinnedClients: 'block' } });
    try {
      for (let i = 0; i < 2; i++) expect(await curl(strict, 'https://api.openai.com/v1/models', other.caFile)).toBe(60);
      await until(() => strict.engine.stats().pinnedClients.length === 1, 'the client to be declared pinned');
      expect(strict.events[0]?.reason).toContain('refused from now on');
      expect(await curl(strict, 'https://api.openai.com/v1/models', strict.ca.caFile)).not.toBe(0);
      expect(strict.events.at(-1)).toMatchObject({ outcome: 'bypass', attempt: { kind: 'pinned-client', action: 'blocked' } });
      expect(strict.provider.requests.length).toBe(0);
    } finally {
      await strict.close();
      await other.dispose();
    }
  });

  it('never tunnels a governed host under failMode closed, even for a pinned client', async () => {
    const { world: closed, stranger: other } = await pinnedWorld({ failMode: 'closed' });
    try {
      for (let i = 0; i < 2; i++) expect(await curl(closed, 'https://api.openai.com/v1/models', other.caFile)).toBe(60);
      await until(() => closed.engine.stats().pinnedClients.length === 1, 'the client to be declared pinned');
      const tunnelled = closed.engine.stats().tunnelled;
      expect(await curl(closed, 'https://api.openai.com/v1/models', closed.ca.caFile)).not.toBe(0);
      expect(closed.engine.stats().tunnelled).toBe(tunnelled);
      expect(closed.events.at(-1)).toMatchObject({ outcome: 'bypass', attempt: { kind: 'pinned-client', action: 'blocked' } });
    } finally {
      await closed.close();
      await other.dispose();
    }
  });

  it('counts aborts on the transparent door too', async () => {
    const door = await startWorld({ transparent: true, engine: { pinning: { threshold: 1 } } });
    try {
      const port = door.engine.transparentPort ?? 0;
      const code = await run('curl', ['-sS', '-o', '/dev/null', '--max-time', '10', '--connect-to', `api.openai.com:443:127.0.0.1:${port}`, '--cacert', stranger.caFile, 'https://api.openai.com/v1/models']).then(
        () => 0,
        (err: { code: number }) => err.code,
      );
      expect(code).toBe(60);
      await until(() => door.engine.stats().pinnedHosts.length === 1, 'the client to be declared pinned');
      expect(door.events).toEqual([expect.objectContaining({ host: 'api.openai.com', outcome: 'pinned' })]);
    } finally {
      await door.close();
    }
  });

  it('does not count clients that trust the agent', async () => {
    const fresh = await startWorld({ engine: { pinning: { threshold: 1 } } });
    try {
      expect(await curl(fresh, 'https://api.openai.com/v1/models', fresh.ca.caFile)).toBe(0);
      expect(fresh.engine.stats().pinnedHosts).toEqual([]);
    } finally {
      await fresh.close();
    }
  });
});
