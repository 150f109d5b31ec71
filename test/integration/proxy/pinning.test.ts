import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCa, type TestCa } from '../../support/test-ca.js';
import { connectTls, startWorld, until, type ProxyWorld } from './harness.js';

const run = promisify(execFile);

/** curl through the agent, trusting `caFile` only; resolves to curl's exit code. */
async function curl(world: ProxyWorld, url: string, caFile: string): Promise<number> {
  try {
    await run('curl', ['-sS', '-o', '/dev/null', '--max-time', '10', '--proxy', world.engine.url, '--cacert', caFile, url]);
    return 0;
  } catch (err) {
    return (err as { code: number }).code;
  }
}

describe('pinned clients', () => {
  let world: ProxyWorld;
  let strangerCa: TestCa;
  beforeAll(async () => {
    world = await startWorld({ engine: { pinningThreshold: 2 } });
    // A client that trusts some other root behaves like an app pinning its provider's certificate.
    strangerCa = await createTestCa('Not The Outpost CA');
  });
  afterAll(async () => {
    await world.close();
    await strangerCa.dispose();
  });

  it('tunnels a host after its clients abort our handshake, and reports it', async () => {
    expect(await curl(world, 'https://api.openai.com/v1/models', strangerCa.caFile)).toBe(60);
    await until(() => world.events.length === 0 && world.engine.stats().intercepted === 1, 'the first abort');
    expect(world.engine.stats().pinnedHosts).toEqual([]);
    expect(await curl(world, 'https://api.openai.com/v1/models', strangerCa.caFile)).toBe(60);
    await until(() => world.engine.stats().pinnedHosts.length === 1, 'the host to be declared pinned');
    expect(world.engine.stats().pinnedHosts).toEqual(['api.openai.com']);
    expect(world.events).toEqual([expect.objectContaining({ host: 'api.openai.com', outcome: 'pinned' })]);
    expect(world.events[0]?.reason).toContain('unknown_ca'.toUpperCase());

    // From now on the host is a blind tunnel: the client meets the origin's certificate.
    const tunnelled = await connectTls(world.engine, 'api.openai.com:443', world.ca.caPem);
    const seen = tunnelled.getPeerCertificate().fingerprint256;
    tunnelled.destroy();
    const direct = await import('node:tls').then(
      (tls) =>
        new Promise<string>((resolve, reject) => {
          const s = tls.connect({ host: '127.0.0.1', port: world.provider.port, servername: 'api.openai.com', ca: world.ca.caPem });
          s.once('secureConnect', () => {
            resolve(s.getPeerCertificate().fingerprint256);
            s.destroy();
          });
          s.once('error', reject);
        }),
    );
    expect(seen).toBe(direct);
  });

  it('counts aborts on the transparent door too', async () => {
    const door = await startWorld({ transparent: true, engine: { pinningThreshold: 1 } });
    try {
      const port = door.engine.transparentPort ?? 0;
      const code = await run('curl', ['-sS', '-o', '/dev/null', '--max-time', '10', '--connect-to', `api.openai.com:443:127.0.0.1:${port}`, '--cacert', strangerCa.caFile, 'https://api.openai.com/v1/models']).then(
        () => 0,
        (err: { code: number }) => err.code,
      );
      expect(code).toBe(60);
      await until(() => door.engine.stats().pinnedHosts.length === 1, 'the host to be declared pinned');
      expect(door.events).toEqual([expect.objectContaining({ host: 'api.openai.com', outcome: 'pinned' })]);
    } finally {
      await door.close();
    }
  });

  it('does not count clients that trust the agent', async () => {
    const fresh = await startWorld({ engine: { pinningThreshold: 1 } });
    try {
      expect(await curl(fresh, 'https://api.openai.com/v1/models', fresh.ca.caFile)).toBe(0);
      expect(fresh.engine.stats().pinnedHosts).toEqual([]);
    } finally {
      await fresh.close();
    }
  });
});
