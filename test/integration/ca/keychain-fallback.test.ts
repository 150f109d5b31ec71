/**
 * The OS keychain unavailable at start (no Secret Service on the session bus): `outpost start`
 * with `ca.keyStore: auto` falls back to the 0600 key file, keeps intercepting, and says so in
 * `/v1/status`. Under `npm test` (a real GNOME keyring) the first start keeps the root key in the
 * keychain; the second cannot reach it, makes a new root, and says that too; the third, with the
 * keychain back, moves that root's key into it and keeps that root (no flip back, no new prompt).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOutpost } from '../../support/cli.js';
import { curl } from '../../support/curl.js';
import { createTestCa, type TestCa } from '../../support/test-ca.js';
import { startFakeProvider, type FakeProvider } from '../../support/fake-provider.js';
import { openKeychain } from '../../../agent/system/keychain.js';
import { agentStatus, type AgentStatus } from '../../../shared/schema/control.js';
import { tempDir } from './fixtures.js';

const inKeyring = process.env.OUTPOST_KEYRING === 'secret-service';
/** A session bus address where nothing listens: libsecret cannot reach a keychain. */
const NO_KEYCHAIN = { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/outpost-test-bus' };

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

describe('the keychain unavailable at start', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let upstreamCa: TestCa;
  let provider: FakeProvider;
  let configFile: string;
  let home: string;

  beforeAll(async () => {
    tmp = await tempDir('outpost-keychain-start-');
    upstreamCa = await createTestCa();
    provider = await startFakeProvider({ ca: upstreamCa });
    home = path.join(tmp.dir, 'home');
    configFile = path.join(tmp.dir, 'agent.json');
    await fs.writeFile(path.join(tmp.dir, 'policy.json'), JSON.stringify({ version: 1, name: 'p', interception: { hosts: ['api.openai.com'] } }));
    await fs.writeFile(
      configFile,
      JSON.stringify({ home: 'home', policyFile: 'policy.json', proxy: { port: 0 }, control: { port: 0 }, ca: { keyStore: 'auto' }, upstream: { resolve: provider.resolveMap(), caFile: upstreamCa.caFile }, log: { level: 'warn' } }),
    );
  });
  afterAll(async () => {
    if (inKeyring) await (await openKeychain({ home, mode: 'keychain' })).delete('ca-root-key');
    await provider?.close();
    await upstreamCa?.dispose();
    await tmp?.cleanup();
  });

  /** Starts the agent with `env`, reads its status and proves it still intercepts; stops it. */
  async function run(env: NodeJS.ProcessEnv): Promise<{ status: AgentStatus; caPem: string }> {
    // HOME: the agent looks for NSS databases to keep in step there.
    const agent = await startOutpost(configFile, { env: { ...env, HOME: tmp.dir } });
    try {
      const token = (await fs.readFile(path.join(home, 'control.token'), 'utf8')).trim();
      const res = await fetch(`${agent.controlUrl}/v1/status`, { headers: { authorization: `Bearer ${token}` } });
      const status = agentStatus.parse(await res.json());
      const call = await curl({ url: 'https://api.openai.com/v1/models', proxyUrl: agent.proxyUrl, ca: agent.caPem, headers: { authorization: 'Bearer sk-user-own' } });
      expect(call.status).toBe(200);
      return { status, caPem: agent.caPem };
    } finally {
      await stop(agent.child);
    }
  }

  it.runIf(inKeyring)('first start: the root key goes to the OS keychain', async () => {
    const { status } = await run({});
    expect(status.ca).toMatchObject({ keyStore: 'keychain', weakKeyStore: false });
    expect(status.degraded.join('\n')).not.toContain('CA key in a file');
  });

  let fallbackRoot = '';

  it('falls back to the key file, keeps intercepting, and reports it', async () => {
    const { status, caPem } = await run(NO_KEYCHAIN);
    fallbackRoot = caPem;
    expect(status.ca).toMatchObject({ keyStore: 'file', weakKeyStore: true });
    expect(status.degraded.join('\n')).toMatch(/CA key in a file: .*the OS keychain is not available/);
    if (inKeyring) expect(status.degraded.join('\n')).toContain('the key of the previous CA root could not be read');
  });

  it.runIf(inKeyring)('when the keychain is back, the key made meanwhile moves into it and that root stays', async () => {
    const { status, caPem } = await run({});
    expect(caPem).toBe(fallbackRoot);
    expect(status.ca).toMatchObject({ keyStore: 'keychain', weakKeyStore: false });
    expect(status.degraded).toEqual([]);
    expect(await fs.readdir(path.join(home, 'keys')).catch(() => [])).toEqual([]);
  });
});
