/**
 * Device sign-in (issue 17.3): `outpost enroll --sso` as a process against a real gateway and a real
 * OpenID provider. The CLI prints the sign-in address; a real HTTP client signs in there (the
 * provider's login form) and is sent back to the CLI's loopback address; the device is enrolled and
 * linked to the person, and the started agent's records reach the gateway as `user:<email>`.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { signInOverHttp, startTestIdp, type TestIdp } from '../../support/oidc-provider.js';
import { chatThrough } from '../../support/clients.js';
import { REPO_ROOT } from '../../support/repo.js';
import { loadIdentity } from '../../../agent/system/identity.js';
import { browserCommand } from '../../../agent/system/open-browser.js';
import type { TestAgent } from '../../support/agent.js';
import { allAcknowledged, connected, startSyncedAgent, syncOf } from './support.js';

const CLI = path.join(REPO_ROOT, 'dist/agent/cli/main.js');
const USERS = { ada: { password: 'ada-pass', email: 'ada@example.com', groups: ['staff'] } };

/** `outpost enroll --sso --no-browser` as a process; resolves the sign-in URL it prints, and later its result. */
function enrollWithSso(gatewayUrl: string, config: string): { url: Promise<string>; done: Promise<{ code: number; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, [CLI, 'enroll', '--gateway', gatewayUrl, '--sso', '--no-browser', '--config', config, '--json']);
  let stdout = '';
  let stderr = '';
  let found: (url: string) => void;
  const url = new Promise<string>((resolve) => (found = resolve));
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    const m = /^(http:\/\/\S+\/v1\/agents\/enroll\/sso\?\S+)$/m.exec(stderr);
    if (m !== null) found(m[1]!);
  });
  const done = new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr })));
  return { url, done };
}

describe('outpost enroll --sso', () => {
  let idp: TestIdp;
  let gw: TestGateway;
  let dir: string;
  let t: TestAgent | undefined;

  beforeAll(async () => {
    idp = await startTestIdp(USERS);
    process.env.OUTPOST_TEST_SSO_ENROLL_SECRET = idp.clientSecret;
    gw = await startTestGateway({
      console: { sessionHours: 8, oidc: { issuer: idp.issuer, clientId: idp.clientId, clientSecret: { env: 'OUTPOST_TEST_SSO_ENROLL_SECRET' }, scopes: ['email', 'groups'], userClaim: 'email', groupsClaim: 'groups', roles: {}, teams: {} } },
    });
    idp.register([`${gw.url}/console/auth/oidc/callback`]);
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-sso-enroll-'));
  });
  afterAll(async () => {
    await t?.close();
    await gw?.close();
    await idp?.close();
    delete process.env.OUTPOST_TEST_SSO_ENROLL_SECRET;
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('signs the person in through the browser flow, enrolls the device as theirs, and its records carry user:<email>', async () => {
    const home = path.join(dir, 'home');
    const config = path.join(dir, 'agent.json');
    await fs.writeFile(config, JSON.stringify({ home, ca: { keyStore: 'file' }, log: { level: 'warn' } }));

    const run = enrollWithSso(gw.url, config);
    const signInUrl = await run.url;
    const walk = await signInOverHttp(signInUrl, 'ada', USERS.ada.password);
    // The browser ends on the agent's own loopback page.
    expect(walk.url.hostname).toBe('127.0.0.1');
    expect(walk.url.pathname).toBe('/callback');
    expect(walk.body).toContain('Signed in');
    const result = await run.done;
    expect(result.code, result.stderr).toBe(0);
    const answer = JSON.parse(result.stdout) as { deviceId: string; user: string };
    expect(answer.user).toBe('ada@example.com');
    // Never the code or the verifier in the output.
    expect(result.stdout + result.stderr).not.toMatch(/opt_|code=/);

    const device = (await gw.admin('GET', '/admin/v1/devices')).body.devices.find((d: { id: string }) => d.id === answer.deviceId);
    expect(device).toMatchObject({ user: 'ada@example.com' });
    expect((await loadIdentity(home)).user).toBe('ada@example.com');
    const enrollment = JSON.parse(await fs.readFile(path.join(home, 'gateway', 'enrollment.json'), 'utf8')) as { user: string };
    expect(enrollment.user).toBe('ada@example.com');

    // The started agent speaks for the person: the record the gateway receives is theirs.
    t = await startSyncedAgent(home, { policy: { version: 1, name: 'local', interception: { hosts: ['api.openai.com'] } } });
    await connected(syncOf(t));
    expect((await chatThrough({ proxyUrl: t.proxyUrl, ca: t.caPem }, 'hello from ada')).status).toBe(200);
    await allAcknowledged(t);
    const records = (await gw.admin('GET', `/admin/v1/audit?device=${answer.deviceId}`)).body.records as Array<{ principal: string }>;
    expect(records.length).toBeGreaterThan(0);
    expect(records.every((r) => r.principal === 'user:ada@example.com')).toBe(true);
  });

  it('fails clearly when the sign-in is refused, and enrolls nothing', async () => {
    const home = path.join(dir, 'refused');
    const config = path.join(dir, 'refused.json');
    await fs.writeFile(config, JSON.stringify({ home, ca: { keyStore: 'file' }, log: { level: 'warn' } }));
    const run = enrollWithSso(gw.url, config);
    const signInUrl = new URL(await run.url);
    // The gateway's callback with a forged code: it sends the browser back to the agent with an error.
    const start = await fetch(signInUrl, { redirect: 'manual' });
    const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
    const back = await fetch(`${gw.url}/console/auth/oidc/callback?code=forged&state=${state}`, { redirect: 'manual', headers: { cookie: start.headers.get('set-cookie')!.split(';')[0]! } });
    const page = await fetch(back.headers.get('location')!);
    expect(page.status).toBe(200);
    const result = await run.done;
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('sign-in did not complete (access_denied)');
    await expect(fs.stat(path.join(home, 'gateway', 'enrollment.json'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('needs either --token or --sso', async () => {
    const out = await new Promise<{ code: number; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [CLI, 'enroll', '--gateway', gw.url]);
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code: code ?? -1, stderr }));
    });
    expect(out.code).not.toBe(0);
    expect(out.stderr).toContain('either --token');
  });

  it('opens the browser with the platform command (xdg-open, open, start)', () => {
    const url = 'https://gw.example/v1/agents/enroll/sso?a=1&b=2';
    expect(browserCommand(url, 'linux')).toEqual({ command: 'xdg-open', args: [url] });
    expect(browserCommand(url, 'darwin')).toEqual({ command: 'open', args: [url] });
    expect(browserCommand(url, 'win32')).toEqual({ command: 'cmd', args: ['/c', 'start', '""', 'https://gw.example/v1/agents/enroll/sso?a=1^&b=2'] });
  });
});
