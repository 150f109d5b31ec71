/**
 * Transparent interception for real (issue 15.2): a network namespace made here holds the agent and
 * a client process under another uid with no proxy settings at all; across a veth pair, a fake AI
 * provider (api.openai.com) and a non-AI HTTPS/HTTP host (docs.example.org) with its own CA.
 * `outpost transparent enable` installs the nftables redirect; curl and Node's fetch reach the
 * provider governed (a secret is refused before it leaves), the other host untouched with its own
 * certificate, an IP-literal (no SNI) connection and a lying SNI go where they were going
 * (SO_ORIGINAL_DST), plain HTTP by its Host header; after a kill -9 of the agent the watchdog
 * removes the rules and traffic flows direct (no black hole).
 *
 * Needs root, `ip` (iproute2), `nft` (nftables) and `setpriv` (util-linux): `npm run setup` installs
 * them and CI runs as root. Everything it makes (namespace, veth, /etc/netns/NAME, processes in the
 * namespace) is removed in afterAll, whatever failed.
 */
import { execFile, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOutpost, type RunningAgent } from '../support/cli.js';
import { startFakeProvider, type FakeProvider } from '../support/fake-provider.js';
import { closeServer } from '../support/ports.js';
import { REPO_ROOT } from '../support/repo.js';
import { createTestCa, type TestCa } from '../support/test-ca.js';

const run = promisify(execFile);
const CLI = path.join(REPO_ROOT, 'dist/agent/cli/main.js');
const NOBODY = 65534;

/** Why this machine cannot run the test, or null. */
function missingCapability(): string | null {
  if (process.platform !== 'linux') return 'network namespaces and nftables are Linux only';
  if (process.getuid?.() !== 0) return 'needs root (ip netns, nftables)';
  for (const tool of ['ip', 'nft', 'setpriv', 'curl']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed (npm run setup installs it)`;
  }
  return null;
}
const missing = missingCapability();
if (missing !== null) console.warn(`transparent-netns: not run here: ${missing}`);

const SUFFIX = `${process.pid % 10_000}${Math.floor(Math.random() * 100)}`;
const NS = `outpost-t${SUFFIX}`;
const VETH_HOST = `opa${SUFFIX}`;
const VETH_NS = `opb${SUFFIX}`;
const NET = `10.213.${100 + Math.floor(Math.random() * 150)}`;
const PROVIDER_IP = `${NET}.1`;
const CLIENT_IP = `${NET}.2`;
const DOCS_IP = `${NET}.3`;

/** Runs a command inside the namespace as root. */
const inNs = (args: readonly string[]): Promise<{ stdout: string; stderr: string }> => run('ip', ['netns', 'exec', NS, ...args]);

/** A command's outcome, failed or not. */
interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `args` in the namespace as uid/gid 65534 with nothing but PATH (no proxy variables). */
function asClient(args: readonly string[], env: Record<string, string> = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(
      'ip',
      ['netns', 'exec', NS, 'setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', ...args],
      { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp', ...env } },
      (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr) }),
    );
  });
}

/** Waits for `check` to hold, asking again as each answer comes back; fails after `limitMs`. */
async function until(check: () => Promise<boolean>, what: string, limitMs = 20_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const tableInstalled = async (): Promise<boolean> =>
  inNs(['nft', 'list', 'table', 'inet', 'outpost']).then(
    () => true,
    () => false,
  );

describe.skipIf(missing !== null)('transparent interception in a network namespace (nftables redirect, another uid, no proxy settings)', () => {
  let dir = '';
  let providerCa: TestCa;
  let provider: FakeProvider;
  let docsCa: TestCa;
  let forwarder: net.Server;
  let docsTls: https.Server;
  let docsPlain: http.Server;
  const docsSeen: string[] = [];
  let agent: RunningAgent | null = null;
  let configFile = '';
  /** Both CAs the client trusts: Outpost's (for AI hosts) and the docs host's own. */
  let bundle = '';
  let client = '';

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-netns-'));
    await fs.chmod(dir, 0o755);
    // The namespace, a veth pair, addresses, and its own /etc/hosts (ip netns exec mounts it).
    await run('ip', ['netns', 'add', NS]);
    await run('ip', ['link', 'add', VETH_HOST, 'type', 'veth', 'peer', 'name', VETH_NS]);
    await run('ip', ['link', 'set', VETH_NS, 'netns', NS]);
    await run('ip', ['addr', 'add', `${PROVIDER_IP}/24`, 'dev', VETH_HOST]);
    await run('ip', ['addr', 'add', `${DOCS_IP}/24`, 'dev', VETH_HOST]);
    await run('ip', ['link', 'set', VETH_HOST, 'up']);
    await inNs(['ip', 'addr', 'add', `${CLIENT_IP}/24`, 'dev', VETH_NS]);
    await inNs(['ip', 'link', 'set', VETH_NS, 'up']);
    await inNs(['ip', 'link', 'set', 'lo', 'up']);
    await fs.mkdir(`/etc/netns/${NS}`, { recursive: true });
    await fs.writeFile(`/etc/netns/${NS}/hosts`, `127.0.0.1 localhost\n::1 localhost\n${PROVIDER_IP} api.openai.com\n${DOCS_IP} docs.example.org\n`);

    // The AI provider at PROVIDER_IP:443 (a TCP forwarder to the fake on loopback).
    providerCa = await createTestCa('Outpost Netns Provider CA');
    provider = await startFakeProvider({ ca: providerCa });
    forwarder = net.createServer((socket) => {
      const upstream = net.connect(provider.port, '127.0.0.1');
      socket.pipe(upstream).pipe(socket);
      socket.on('error', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
    });
    await new Promise<void>((resolve) => forwarder.listen(443, PROVIDER_IP, resolve));

    // The non-AI host: HTTPS with its own CA (also valid for its IP), and plain HTTP.
    docsCa = await createTestCa('Docs Origin CA');
    const leaf = docsCa.issue(['docs.example.org', DOCS_IP]);
    const answer = (scheme: string) => (req: http.IncomingMessage, res: http.ServerResponse): void => {
      docsSeen.push(`${scheme} ${req.headers.host ?? ''} ${req.socket.remoteAddress ?? ''}`);
      res.end(`docs over ${scheme}\n`);
    };
    docsTls = https.createServer({ cert: leaf.cert, key: leaf.key }, answer('https'));
    docsPlain = http.createServer(answer('http'));
    await new Promise<void>((resolve) => docsTls.listen(443, DOCS_IP, resolve));
    await new Promise<void>((resolve) => docsPlain.listen(80, DOCS_IP, resolve));

    // The agent, inside the namespace, as root (its uid is exempt from the redirect).
    await fs.writeFile(
      path.join(dir, 'policy.json'),
      JSON.stringify({
        version: 1,
        name: 'netns',
        interception: { hosts: ['api.openai.com'] },
        guardrails: [{ id: 'secrets', type: 'secrets', on: ['input'], action: 'block' }],
      }),
    );
    configFile = path.join(dir, 'agent.json');
    await fs.writeFile(
      configFile,
      JSON.stringify({
        home: 'home',
        policyFile: 'policy.json',
        proxy: { port: 0 },
        control: { port: 0 },
        transparent: { enabled: true, port: 0 },
        ca: { keyStore: 'file' },
        upstream: { caFile: providerCa.caFile },
        log: { level: 'warn' },
      }),
    );
    agent = await startOutpost(configFile, { prefix: ['ip', 'netns', 'exec', NS], captureStderr: true });
    bundle = path.join(dir, 'bundle.pem');
    await fs.writeFile(bundle, `${agent.caPem}${docsCa.caPem}`);
    client = path.join(dir, 'client.mjs');
    await fs.writeFile(client, CLIENT_SCRIPT);
  }, 120_000);

  afterAll(async () => {
    // Whatever failed above: every process left in the namespace, the namespace (its veth end goes
    // with it, and so the pair), its /etc/netns folder, the servers.
    const pids = await run('ip', ['netns', 'pids', NS]).then(
      (r) => r.stdout.split('\n').filter((l) => /^\d+$/.test(l)),
      () => [],
    );
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await run('ip', ['netns', 'del', NS]).catch(() => undefined);
    await run('ip', ['link', 'del', VETH_HOST]).catch(() => undefined);
    await fs.rm(`/etc/netns/${NS}`, { recursive: true, force: true });
    for (const server of [forwarder, docsTls, docsPlain]) if (server !== undefined) await closeServer(server).catch(() => undefined);
    await provider?.close();
    await docsCa?.dispose();
    await providerCa?.dispose();
    if (dir !== '') await fs.rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('outpost transparent enable installs the redirect for the running agent, and status sees its listener', async () => {
    const enabled = await inNs([process.execPath, CLI, 'transparent', 'enable', '--config', configFile, '--json']);
    const state = JSON.parse(enabled.stdout) as { port: number; uid: number; watchdogPid: number; originalDestination: boolean };
    expect(state).toMatchObject({ uid: 0, originalDestination: true });
    expect(state.watchdogPid).toBeGreaterThan(0);
    const status = JSON.parse((await inNs([process.execPath, CLI, 'transparent', 'status', '--json'])).stdout) as { installed: boolean; listening: boolean; port: number };
    expect(status).toMatchObject({ installed: true, listening: true, port: state.port });
  });

  it('curl (no proxy settings, another uid) reaches the AI provider through Outpost, governed', async () => {
    const ok = await asClient(['curl', '-sS', '--cacert', bundle, '-H', 'authorization: Bearer sk-test-netns', '-H', 'content-type: application/json', '-d', '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello"}]}', '-D', '-', 'https://api.openai.com/v1/chat/completions']);
    expect(ok.stderr).toBe('');
    // curl offers h2 and the transparent door negotiates it as the proxy door does (issue 18.4).
    expect(ok.stdout).toMatch(/^HTTP\/2 200/);
    expect(ok.stdout).toMatch(/x-outpost-decision: allow/i);
    expect(ok.stdout).toContain('Echo from gpt-4o-mini: hello');
    const before = provider.requests.length;
    const refused = await asClient(['curl', '-sS', '--cacert', bundle, '-H', 'authorization: Bearer sk-test-netns', '-H', 'content-type: application/json', '-d', '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"deploy with AKIAIOSFODNN7EXAMPLE please"}]}', '-w', '\n%{http_code}', 'https://api.openai.com/v1/chat/completions']);
    expect(refused.stdout).toContain('secrets');
    expect(refused.stdout).not.toContain('AKIAIOSFODNN7EXAMPLE');
    expect(refused.stdout.trim().split('\n').at(-1)).toMatch(/^4\d\d$/);
    expect(provider.requests.length).toBe(before);
  });

  it('status and the audit record show the front door each connection came through', async () => {
    const status = JSON.parse((await inNs([process.execPath, CLI, 'status', '--config', configFile, '--json'])).stdout) as { engine: { doors: { transparent: number } }; transparent: { port: number; originalDestination: string | null } };
    expect(status.engine.doors.transparent).toBeGreaterThan(0);
    expect(status.transparent.originalDestination).toBeNull();
    const records = (await run(process.execPath, [CLI, 'audit', 'tail', '-n', '5', '--json', '--config', configFile])).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { host: string; door?: string; decision: string });
    const governed = records.filter((r) => r.host === 'api.openai.com');
    expect(governed.map((r) => r.decision)).toEqual(['allow', 'block']);
    expect(governed.every((r) => r.door === 'transparent')).toBe(true);
  });

  it('Node’s fetch (no proxy settings, another uid) is governed the same way', async () => {
    const env = { NODE_EXTRA_CA_CERTS: bundle };
    const ok = JSON.parse((await asClient([process.execPath, client, 'fetch', 'https://api.openai.com/v1/chat/completions', 'hello from fetch'], env)).stdout) as { status: number; decision: string; text: string };
    expect(ok).toMatchObject({ status: 200, decision: 'allow' });
    expect(ok.text).toContain('Echo from gpt-4o-mini: hello from fetch');
    const refused = JSON.parse((await asClient([process.execPath, client, 'fetch', 'https://api.openai.com/v1/chat/completions', 'key AKIAIOSFODNN7EXAMPLE'], env)).stdout) as { status: number; text: string };
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(refused.text).toContain('secrets');
  });

  it('a non-AI HTTPS host is untouched: its own certificate, its own answer', async () => {
    const seen = JSON.parse((await asClient([process.execPath, client, 'tls', DOCS_IP, 'docs.example.org', bundle])).stdout) as { issuer: string; body: string };
    expect(seen).toEqual({ issuer: 'Docs Origin CA', body: 'docs over https\n' });
    const viaCurl = await asClient(['curl', '-sS', '--cacert', bundle, 'https://docs.example.org/']);
    expect(viaCurl.stdout).toBe('docs over https\n');
  });

  it('TLS without SNI (an IP literal) is tunnelled to where it was going (SO_ORIGINAL_DST)', async () => {
    const seen = JSON.parse((await asClient([process.execPath, client, 'tls', DOCS_IP, '', bundle])).stdout) as { issuer: string; body: string };
    expect(seen).toEqual({ issuer: 'Docs Origin CA', body: 'docs over https\n' });
  });

  it('an SNI that names another host is tunnelled to the address, never to wherever the SNI points', async () => {
    // elsewhere.example.net resolves nowhere in the namespace: routed by its SNI, the connection
    // would fail; routed by its original destination it reaches the docs host (its certificate,
    // whose name the client does not check here).
    const seen = JSON.parse((await asClient([process.execPath, client, 'tls', DOCS_IP, 'elsewhere.example.net', bundle, 'nocheck'])).stdout) as { issuer: string; body: string };
    expect(seen).toEqual({ issuer: 'Docs Origin CA', body: 'docs over https\n' });
  });

  it('a harmless SNI sent to the AI provider’s address (domain fronting) is governed, never tunnelled ungoverned', async () => {
    const count = docsSeen.length;
    const before = provider.requests.length;
    const seen = JSON.parse((await asClient([process.execPath, client, 'tls', PROVIDER_IP, 'docs.example.org', bundle, 'nocheck'])).stdout) as { issuer?: string; error?: string };
    expect(docsSeen.length).toBe(count);
    const records = (await run(process.execPath, [CLI, 'audit', 'tail', '-n', '10', '--json', '--config', configFile])).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { host: string; door?: string; rules: Array<{ kind: string }> });
    const fronting = records.filter((r) => r.rules.some((x) => x.kind === 'bypass-sni-mismatch'));
    expect(fronting.at(-1)).toMatchObject({ host: 'api.openai.com', door: 'transparent' });
    // What reached the provider came through the agent's own TLS (the exchange path), not a tunnel.
    expect(seen.issuer).toBe(new X509Certificate(agent!.caPem).subject.match(/CN=(.*)/)?.[1]);
    expect(provider.requests.length - before).toBeLessThanOrEqual(1);
  });

  it('plain HTTP on port 80 is routed by its Host header (tunnelled to its original destination)', async () => {
    const viaCurl = await asClient(['curl', '-sS', 'http://docs.example.org/']);
    expect(viaCurl.stdout).toBe('docs over http\n');
    expect(docsSeen.at(-1)).toBe(`http docs.example.org ${CLIENT_IP}`);
  });

  it('kill -9 of the agent: the watchdog removes the rules, traffic flows direct (no black hole)', async () => {
    expect(await tableInstalled()).toBe(true);
    const exited = new Promise((resolve) => agent!.child.once('exit', resolve));
    agent!.child.kill('SIGKILL');
    await exited;
    agent = null;
    await until(async () => !(await tableInstalled()), 'the watchdog to remove table inet outpost');
    const direct = await asClient(['curl', '-sS', '--cacert', bundle, 'https://docs.example.org/']);
    expect(direct.stdout).toBe('docs over https\n');
    const status = await inNs([process.execPath, CLI, 'transparent', 'status', '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ installed: false });
  });
});

/** The client process: `fetch URL PROMPT`, or `tls ADDRESS SERVERNAME CAFILE [nocheck]` (GET / over TLS, '' = no SNI). */
const CLIENT_SCRIPT = `
import fs from 'node:fs';
import tls from 'node:tls';
const [mode, a, b, c] = process.argv.slice(2);
if (mode === 'fetch') {
  const res = await fetch(a, { method: 'POST', headers: { authorization: 'Bearer sk-test-fetch', 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: b }] }) });
  console.log(JSON.stringify({ status: res.status, decision: res.headers.get('x-outpost-decision'), text: await res.text() }));
} else {
  const options = { host: a, port: 443, ca: fs.readFileSync(c, 'utf8'), checkServerIdentity: b === '' || process.argv[6] === 'nocheck' ? () => undefined : tls.checkServerIdentity };
  if (b !== '') options.servername = b;
  const socket = tls.connect(options);
  socket.once('error', (err) => console.log(JSON.stringify({ error: err.message })));
  socket.once('secureConnect', () => {
    const issuer = socket.getPeerCertificate().issuer.CN;
    let body = '';
    socket.on('data', (d) => (body += d));
    socket.on('end', () => console.log(JSON.stringify({ issuer, body: body.split('\\r\\n\\r\\n').slice(1).join('') })));
    socket.end('GET / HTTP/1.1\\r\\nHost: ' + (b || a) + '\\r\\nConnection: close\\r\\n\\r\\n');
  });
}
`;
