/**
 * `outpost doctor`: each check against the real part it is about (a real NSS database, a real HTTP
 * server standing in for the gateway, a closed port, a running agent), and the CLI's exit status
 * and fix commands.
 */
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { resolveAgentConfig, type ResolvedAgentConfig } from '../../../agent/config/load.js';
import { agentConfig } from '../../../shared/schema/config.js';
import { doctorContext, type DoctorContext } from '../../../agent/doctor/context.js';
import { MAX_CLOCK_SKEW_MS, runDoctor, type DoctorCheckDefinition } from '../../../agent/doctor/checks.js';
import { nssStore } from '../../../agent/ca/trust/nss.js';
import { trustedCert } from '../../../agent/ca/trust/types.js';
import { doctorReport, type DoctorCheck } from '../../../shared/schema/control.js';
import { createTestCa } from '../../support/test-ca.js';
import { runOutpost, startOutpost, writeAgentConfig, type RunningAgent } from '../../support/cli.js';
import { startFakeProvider, type FakeProvider } from '../../support/fake-provider.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-doctor-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});

function config(home: string, gatewayUrl: string | null = null, source: string | null = null): ResolvedAgentConfig {
  return resolveAgentConfig(agentConfig.parse({ home, ca: { keyStore: 'file' }, gateway: { url: gatewayUrl } }), home, source, {});
}

const find = (checks: readonly DoctorCheck[], id: string): DoctorCheck => {
  const c = checks.find((x) => x.id === id);
  if (c === undefined) throw new Error(`no check ${id} in ${checks.map((x) => x.id).join(', ')}`);
  return c;
};

/** A context with no agent, no stores and no proxy, so each test sets only the part it checks. */
function quiet(cfg: ResolvedAgentConfig, overrides: Partial<Omit<DoctorContext, 'config'>> = {}): DoctorContext {
  return doctorContext(cfg, {
    agent: async () => ({ status: null, reason: 'no agent in this test' }),
    caCertificate: async () => null,
    trustStores: async () => [],
    systemProxy: async () => null,
    ...overrides,
  });
}

describe('doctor checks', () => {
  const servers: http.Server[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  });

  async function gatewayWithClock(offsetMs: number): Promise<string> {
    const server = http.createServer((_req, res) => {
      res.sendDate = false;
      res.writeHead(404, { date: new Date(Date.now() + offsetMs).toUTCString(), 'content-length': 0 });
      res.end();
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('finds a clock ten minutes behind the gateway, names the skew and the command that sets the clock', async () => {
    const url = await gatewayWithClock(10 * 60 * 1000);
    const report = await runDoctor(quiet(config(await tempDir(), url)));
    expect(find(report.checks, 'gateway').outcome).toBe('ok');
    const clock = find(report.checks, 'clock');
    expect(clock.outcome).toBe('fail');
    expect(clock.detail).toMatch(/this clock is (599|60\d) s behind the gateway's/);
    expect(clock.fix).toBe('sudo timedatectl set-ntp true');
    expect(report.ok).toBe(false);
    expect(doctorReport.parse(report)).toEqual(report);
  });

  it('accepts a clock within the bound', async () => {
    const url = await gatewayWithClock(0);
    const report = await runDoctor(quiet(config(await tempDir(), url)));
    expect(find(report.checks, 'clock').outcome).toBe('ok');
    expect(MAX_CLOCK_SKEW_MS).toBe(300_000);
  });

  it('reports a gateway that does not answer (a closed port) as a failure, and skips both checks when standalone', async () => {
    const server = http.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    await new Promise((r) => server.close(r));
    const down = await runDoctor(quiet(config(await tempDir(), `http://127.0.0.1:${port}`)));
    expect(find(down.checks, 'gateway')).toMatchObject({ outcome: 'fail' });
    expect(find(down.checks, 'gateway').detail).toMatch(/ECONNREFUSED/);
    expect(find(down.checks, 'clock').outcome).toBe('skip');
    const standalone = await runDoctor(quiet(config(await tempDir())));
    expect(find(standalone.checks, 'gateway').outcome).toBe('skip');
  });

  it('fails a trust store that does not hold the CA with the command that installs it, and passes once it does', async () => {
    const dir = await tempDir();
    const ca = await createTestCa('Doctor Test Root');
    const file = path.join(dir, 'ca.pem');
    await fs.writeFile(file, ca.caPem);
    const cert = trustedCert(ca.caPem, file, dir);
    const store = nssStore(path.join(dir, 'nssdb'));
    const cfg = config(path.join(dir, 'home'), null, path.join(dir, 'agent.json'));
    const ctx = quiet(cfg, { caCertificate: async () => cert, trustStores: async () => [store] });
    const before = find((await runDoctor(ctx)).checks, `ca-trust:${store.id}`);
    expect(before.outcome).toBe('fail');
    expect(before.fix).toBe(`outpost ca trust --user-only --config ${path.join(dir, 'agent.json')}`);
    await store.install(cert);
    const after = find((await runDoctor(ctx)).checks, `ca-trust:${store.id}`);
    expect(after.outcome).toBe('ok');
  });

  it('reports an expired CA, and a CA from the future as a clock problem', async () => {
    const dir = await tempDir();
    const ca = await createTestCa('Doctor Expiry Root');
    const cert = trustedCert(ca.caPem, path.join(dir, 'ca.pem'), dir);
    const later = await runDoctor(quiet(config(dir), { caCertificate: async () => cert, now: () => Date.now() + 100 * 365 * 86_400_000 }));
    expect(find(later.checks, 'ca')).toMatchObject({ outcome: 'fail', fix: `outpost ca rotate` });
    const earlier = await runDoctor(quiet(config(dir), { caCertificate: async () => cert, now: () => Date.now() - 10 * 86_400_000 }));
    expect(find(earlier.checks, 'ca').detail).toMatch(/clock is behind/);
  });

  it('turns a check that throws into a failed check and runs the rest', async () => {
    const boom: DoctorCheckDefinition = { id: 'boom', title: 'explodes', run: async () => { throw new Error('kaboom'); } };
    const fine: DoctorCheckDefinition = { id: 'fine', title: 'works', run: async () => ({ id: 'fine', outcome: 'ok', detail: 'fine', fix: null }) };
    const report = await runDoctor(quiet(config(await tempDir())), [boom, fine]);
    expect(report.checks.map((c) => [c.id, c.outcome])).toEqual([['boom', 'fail'], ['fine', 'ok']]);
    expect(report.checks[0]?.detail).toContain('kaboom');
  });

  it('warns about the weaker file key store and a system proxy not pointing at the agent', async () => {
    const report = await runDoctor(quiet(config(await tempDir()), { systemProxy: async () => ({ applied: false, detail: 'GNOME proxy mode is none' }) }));
    expect(find(report.checks, 'keychain')).toMatchObject({ outcome: 'warn' });
    expect(find(report.checks, 'system-proxy')).toMatchObject({ outcome: 'warn', fix: 'outpost proxy enable' });
    expect(report.ok).toBe(false); // the agent is not running
  });
});

describe('outpost doctor (CLI)', () => {
  let provider: FakeProvider;
  let agent: RunningAgent | null = null;
  let configFile: string;
  let userHome: string;

  beforeAll(async () => {
    provider = await startFakeProvider();
    const dir = await tempDir();
    userHome = await tempDir();
    configFile = await writeAgentConfig(dir, { policy: { name: 'doctor', version: 1 }, resolve: provider.resolveMap(), caFile: provider.ca.caFile });
  });
  afterAll(async () => {
    agent?.child.kill('SIGTERM');
    await provider.close();
  });

  it('with no agent: exit 1, the agent check failed with the start command for the same config', async () => {
    const res = await runOutpost(['doctor', '--json', '--config', configFile], { HOME: userHome });
    expect(res.code).toBe(1);
    const report = doctorReport.parse(JSON.parse(res.stdout));
    expect(find(report.checks, 'agent')).toMatchObject({ outcome: 'fail', fix: `outpost start --config ${configFile}` });
    const text = await runOutpost(['doctor', '--config', configFile], { HOME: userHome });
    expect(text.stdout).toContain(`fix: outpost start --config ${configFile}`);
    expect(text.stdout).toMatch(/\d+ checks failed/);
  });

  it('with the agent running: the agent answers, its CA is found, and each untrusted store names its fix', async () => {
    agent = await startOutpost(configFile, { env: { HOME: userHome } });
    const res = await runOutpost(['doctor', '--json', '--config', configFile], { HOME: userHome });
    const report = doctorReport.parse(JSON.parse(res.stdout));
    expect(find(report.checks, 'agent').outcome).toBe('ok');
    expect(find(report.checks, 'ca').outcome).toBe('ok');
    expect(find(report.checks, 'pinned-apps').outcome).toBe('ok');
    const nss = find(report.checks, `ca-trust:nss:${path.join(userHome, '.pki', 'nssdb')}`);
    expect(nss).toMatchObject({ outcome: 'fail', fix: `outpost ca trust --user-only --config ${configFile}` });
    // Once the user runs the fix, that check passes.
    const fixed = await runOutpost(['ca', 'trust', '--user-only', '--config', configFile], { HOME: userHome });
    expect(fixed.code).toBe(0);
    const again = doctorReport.parse(JSON.parse((await runOutpost(['doctor', '--json', '--config', configFile], { HOME: userHome })).stdout));
    expect(find(again.checks, nss.id).outcome).toBe('ok');
  });
});
