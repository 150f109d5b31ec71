/**
 * The real `outpost start` process against hostile clients (issue 10): curl and raw sockets that
 * hang up or reset at each stage, after which the same process must still answer. And the last
 * resort: an uncaught fault is logged with its context, every audit record survives, and the
 * process exits 70 so that its supervisor (systemd `Restart=on-failure`) restarts it.
 * The stage-by-stage matrix against the engine alone is test/integration/proxy/resets.test.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../../agent/audit/audit-log.js';
import { readRecords } from '../../../agent/audit/records.js';
import { verifyChain } from '../../../agent/audit/verify.js';
import { CRASH_EXIT_CODE } from '../../../agent/cli/last-resort.js';
import { fetchFor } from '../../support/clients.js';
import { startOutpost, writeAgentConfig, type RunningAgent } from '../../support/cli.js';
import { curl } from '../../support/curl.js';
import { startFakeProvider, type FakeProvider } from '../../support/fake-provider.js';
import { dialRaw as dial } from '../../support/raw-tls.js';

/** api.openai.com is governed, api.deepseek.com blocked (as in the example policy), the rest tunnelled. */
const POLICY = { version: 1, name: 'robustness', interception: { hosts: ['api.openai.com'], blockedHosts: ['api.deepseek.com'] } };

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Runs curl through `proxyUrl` and kills it (SIGKILL: no orderly close) once the first body byte arrives. */
async function curlKilledMidStream(args: readonly string[]): Promise<void> {
  const child = spawn('curl', ['--silent', '--http1.1', '-N', '--max-time', '30', ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`curl exited (${code}) before any body byte`)));
  });
  child.kill('SIGKILL');
  await exited(child);
}

describe('`outpost start` outlives clients that hang up or reset', () => {
  let provider: FakeProvider;
  let dir: string;
  let agent: RunningAgent;
  let caFile: string;
  const port = (): number => Number(new URL(agent.proxyUrl).port);

  beforeAll(async () => {
    provider = await startFakeProvider();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-robust-'));
    agent = await startOutpost(await writeAgentConfig(dir, { policy: POLICY, resolve: provider.resolveMap(), caFile: provider.ca.caFile }));
    caFile = path.join(dir, 'agent-ca.pem');
    await fs.writeFile(caFile, agent.caPem);
  }, 60_000);
  afterAll(async () => {
    agent.child.kill('SIGTERM');
    await exited(agent.child);
    await provider.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  /** The same process is alive and serves a governed request. */
  const stillServes = async (): Promise<void> => {
    const res = await curl({ url: 'https://api.openai.com/v1/models', proxyUrl: agent.proxyUrl, ca: agent.caPem });
    expect(res.status, res.stderr).toBe(200);
    expect(agent.child.exitCode).toBeNull();
  };

  it('curl to a blocked host gets its 403, and the agent lives on (the issue’s reproduction)', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await curl({ url: 'https://api.deepseek.com/', proxyUrl: agent.proxyUrl, ca: agent.caPem });
      expect(res.status).toBe(403);
    }
    await stillServes();
  });

  it('curl killed mid-stream, on an intercepted host and in a tunnel', async () => {
    provider.knobs.holdAfterEvents = 1;
    try {
      const body = JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hello' }] });
      for (const [host, ca] of [
        ['api.openai.com', caFile],
        ['api.groq.com', provider.ca.caFile],
      ] as const) {
        const url = host === 'api.groq.com' ? 'https://api.groq.com/openai/v1/chat/completions' : 'https://api.openai.com/v1/chat/completions';
        await curlKilledMidStream(['--proxy', agent.proxyUrl, '--cacert', ca, '-H', 'content-type: application/json', '--data-binary', body, url]);
      }
    } finally {
      provider.reset();
    }
    await stillServes();
  });

  it('raw sockets reset after a block answer, mid-handshake and mid-request', async () => {
    const blocked = await dial(port());
    blocked.write('CONNECT api.deepseek.com:443 HTTP/1.1\r\nHost: api.deepseek.com:443\r\n\r\n');
    await new Promise((resolve) => blocked.once('data', resolve));
    blocked.resetAndDestroy();

    const handshake = await dial(port());
    handshake.write('CONNECT api.openai.com:443 HTTP/1.1\r\nHost: api.openai.com:443\r\n\r\n');
    await new Promise((resolve) => handshake.once('data', resolve));
    const secure = tls.connect({ socket: handshake, servername: 'api.openai.com', ca: agent.caPem });
    secure.on('error', () => {});
    await new Promise((resolve) => secure.once('secureConnect', resolve));
    await new Promise<void>((resolve) => secure.write('POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\ncontent-length: 500\r\n\r\n{"mo', () => resolve()));
    secure.destroy();

    const early = await dial(port());
    early.write('CONNECT api.openai.com:443 HTTP/1.1\r\nHost: api.openai.com:443\r\n\r\n', () => early.resetAndDestroy());
    await stillServes();
  });

  it('the control API outlives resets and still answers its token holder', async () => {
    const token = (await fs.readFile(path.join(dir, 'home', 'control.token'), 'utf8')).trim();
    const controlPort = Number(new URL(agent.controlUrl).port);
    for (const text of ['GET /v1/status HTTP/1.1\r\nAuthoriz', `GET /v1/status HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n\r\n`]) {
      const socket = await dial(controlPort);
      socket.write(text, () => socket.resetAndDestroy());
    }
    const res = await fetch(`${agent.controlUrl}/v1/status`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    await stillServes();
  });
});

describe('an uncaught fault in `outpost start`', () => {
  let provider: FakeProvider;
  let dir: string;
  beforeAll(async () => {
    provider = await startFakeProvider();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-fault-'));
  });
  afterAll(async () => {
    await provider.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  /** Governed requests through `agent`; resolves once every response has completed. */
  const send = async (agent: RunningAgent, count: number): Promise<void> => {
    const { client: fetch, close } = fetchFor({ proxyUrl: agent.proxyUrl, ca: agent.caPem });
    for (let i = 0; i < count; i++) {
      const res = await fetch('https://api.openai.com/v1/chat/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `fault test ${i}` }] }),
      });
      expect(res.status).toBe(200);
      await res.text();
    }
    await close();
  };

  it('is logged with its context, keeps every record, and exits 70 for the supervisor to restart', async () => {
    const config = await writeAgentConfig(dir, { policy: POLICY, resolve: provider.resolveMap(), caFile: provider.ca.caFile });
    let recorded = 0;
    for (const kind of ['exception', 'rejection'] as const) {
      // Test-only fault injection, loaded into the agent's process ahead of the CLI: SIGUSR2 makes
      // the agent throw from a timer, or reject a promise nobody handles.
      const injector = path.join(dir, `fault-${kind}.mjs`);
      const fault = kind === 'exception' ? "setImmediate(() => { throw new Error('injected fault'); })" : "void Promise.reject(new Error('injected fault'))";
      await fs.writeFile(injector, `process.on('SIGUSR2', () => { ${fault}; });\n`);
      const agent = await startOutpost(config, { env: { NODE_OPTIONS: `--import=${pathToFileURL(injector).href}` }, captureStderr: true });
      await send(agent, 3);
      recorded += 3;
      agent.child.kill('SIGUSR2');
      await exited(agent.child);
      expect(agent.child.exitCode, agent.stderr()).toBe(CRASH_EXIT_CODE);

      const lines = agent
        .stderr()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { level: number; msg: string; origin?: string; error?: { message: string; stack: string } });
      const fatal = lines.find((l) => l.level === 60);
      expect(fatal).toMatchObject({ origin: kind === 'exception' ? 'uncaughtException' : 'unhandledRejection', error: { message: 'injected fault' } });
      expect(fatal?.msg).toContain('supervisor restarts it');
      expect(fatal?.error?.stack).toContain('injected fault');

      // The records of every completed response are in the store, and the chain verifies.
      const log = AuditLog.open({ file: path.join(dir, 'home', 'outpost.db'), spoolMaxBytes: 1 << 30, backgroundCheckpoints: false });
      const records = readRecords(log.connection());
      expect(records.filter((r) => r.kind === 'request' && r.status === 200)).toHaveLength(recorded);
      expect(verifyChain(log.connection())).toMatchObject({ ok: true, checked: records.length });
      await log.close();
    }
    // What the supervisor does next: a new process on the same home serves, and the chain goes on.
    const again = await startOutpost(config);
    await send(again, 1);
    again.child.kill('SIGTERM');
    await exited(again.child);
    expect(again.child.exitCode).toBe(0);
    const log = AuditLog.open({ file: path.join(dir, 'home', 'outpost.db'), spoolMaxBytes: 1 << 30, backgroundCheckpoints: false });
    expect(verifyChain(log.connection())).toMatchObject({ ok: true, checked: recorded + 1 });
    await log.close();
  }, 120_000);
});
