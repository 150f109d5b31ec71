/**
 * Environment coverage (issue 14.1): under `outpost run`, real clients with no flags of their own
 * (Node's openai SDK on the global fetch, Python's urllib with its default context, curl, git) reach
 * the intercepted fake provider through the agent, and also a non-intercepted HTTPS host whose CA is
 * only in the OS trust store (the combined bundle keeps other hosts working). The company CA goes
 * into the real system store for the test (root only; removed afterwards), before the agent starts
 * and writes its bundle.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCa, type TestCa } from '../../support/test-ca.js';
import { startFakeProvider, type FakeProvider } from '../../support/fake-provider.js';
import { startTestAgent, type TestAgent } from '../../support/agent.js';
import { runOutpost, type CliResult } from '../../support/cli.js';
import { detectLinuxLayout, linuxSystemStore } from '../../../agent/ca/trust/linux-system.js';
import { trustedCert, type TrustedCert } from '../../../agent/ca/trust/types.js';

const exec = promisify(execFile);
const INTERNAL = 'internal.outpost.test';
const layout = process.platform === 'linux' ? await detectLinuxLayout() : null;
const canRun = layout !== null && process.getuid?.() === 0;

/** This process's environment without anything that would route or trust on its own. */
function cleanEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) {
    if (/^(https?_proxy|no_proxy|all_proxy|node_extra_ca_certs|ssl_cert_file|ssl_cert_dir|requests_ca_bundle|curl_ca_bundle|git_ssl_cainfo|node_options|node_use_env_proxy)$/i.test(k)) delete env[k];
  }
  return { ...env, ...extra };
}

describe.runIf(canRun)('outpost run: every common runtime reaches governed and ungoverned hosts', () => {
  let corpCa: TestCa;
  let corpAnchor: TrustedCert;
  let internal: https.Server;
  let upstreamCa: TestCa;
  let provider: FakeProvider;
  let t: TestAgent;
  let work: string;
  const internalHits: string[] = [];

  const outpostRun = (args: readonly string[]): Promise<CliResult> => runOutpost(['run', '--', ...args], cleanEnv({ OUTPOST_HOME: t.home }));

  beforeAll(async () => {
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-envcov-'));
    // A bare repository served over "dumb" HTTP (static files): git clones it with no server-side git.
    const src = path.join(work, 'src');
    await fs.mkdir(src);
    const git = (cwd: string, ...a: string[]) => exec('git', a, { cwd, env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } });
    await git(src, 'init', '-q', '-b', 'main');
    await fs.writeFile(path.join(src, 'README'), 'internal repository\n');
    await git(src, 'add', 'README');
    await git(src, 'commit', '-q', '-m', 'first');
    await git(work, 'clone', '-q', '--bare', src, path.join(work, 'serve', 'repo.git'));
    await git(path.join(work, 'serve', 'repo.git'), 'update-server-info');

    corpCa = await createTestCa('Outpost Test Company Root');
    corpAnchor = trustedCert(corpCa.caPem, corpCa.caFile, `${work}/corp`);
    await linuxSystemStore(layout!).install(corpAnchor);
    const leaf = corpCa.issue([INTERNAL]);
    internal = https.createServer({ key: leaf.key, cert: leaf.cert }, (req, res) => {
      const url = new URL(req.url ?? '/', `https://${INTERNAL}`);
      internalHits.push(url.pathname);
      if (url.pathname === '/hello') {
        res.end('hello from the company host');
        return;
      }
      const file = path.join(work, 'serve', path.normalize(url.pathname));
      fs.readFile(file).then(
        (body) => res.end(body),
        () => {
          res.writeHead(404);
          res.end();
        },
      );
    });
    await new Promise<void>((r) => internal.listen(0, '127.0.0.1', r));
    upstreamCa = await createTestCa();
    provider = await startFakeProvider({ ca: upstreamCa });
    t = await startTestAgent({
      provider: { provider, ca: upstreamCa },
      policy: { version: 1, name: 'coverage', interception: { hosts: ['api.openai.com'] } },
      config: { upstream: { resolve: { ...provider.resolveMap(), [INTERNAL]: `127.0.0.1:${(internal.address() as AddressInfo).port}` }, caFile: upstreamCa.caFile } },
    });
  }, 120_000);

  afterAll(async () => {
    await t?.close();
    await provider?.close();
    await upstreamCa?.dispose();
    internal?.close();
    if (corpAnchor !== undefined) await linuxSystemStore(layout!).remove(corpAnchor);
    await corpCa?.dispose();
    await fs.rm(work, { recursive: true, force: true });
  });

  const chat = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello from a runtime' }] });

  it("Node: the openai SDK (global fetch, which Node 20 sends direct without the preload) and fetch to the company host", async () => {
    const script = `
      const { default: OpenAI } = await import('openai');
      const client = new OpenAI({ apiKey: 'sk-test-outpost', maxRetries: 0 });
      const r = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello from node' }] });
      console.log(r.choices[0].message.content);
      console.log(await (await fetch('https://${INTERNAL}/hello')).text());`;
    const before = provider.requests.length;
    const res = await runOutpost(['run', '--', process.execPath, '--input-type=module', '-e', script], cleanEnv({ OUTPOST_HOME: t.home }));
    expect(res.stderr).toBe('');
    expect(res.stdout).toBe('Echo from gpt-4o-mini: hello from node\nhello from the company host\n');
    expect(provider.requests.length).toBe(before + 1);
    t.agent.store.audit.flushNow();
    expect(t.agent.store.audit.recordsAfter(0).at(-1)).toMatchObject({ host: 'api.openai.com', decision: 'allow', model: 'gpt-4o-mini' });
  }, 60_000);

  it("Python: urllib with its default context, to the provider and to the company host", async () => {
    const script = [
      'import json, urllib.request',
      `req = urllib.request.Request("https://api.openai.com/v1/chat/completions", data=${JSON.stringify(chat)}.encode(), headers={"content-type": "application/json", "authorization": "Bearer sk-test-outpost"})`,
      'print(json.load(urllib.request.urlopen(req))["choices"][0]["message"]["content"])',
      `print(urllib.request.urlopen("https://${INTERNAL}/hello").read().decode())`,
    ].join('\n');
    const res = await outpostRun(['python3', '-c', script]);
    expect(res.stderr).toBe('');
    expect(res.stdout).toBe('Echo from gpt-4o-mini: hello from a runtime\nhello from the company host\n');
  }, 60_000);

  it('curl, to the provider and to the company host', async () => {
    const api = await outpostRun(['curl', '-sS', '--fail', 'https://api.openai.com/v1/chat/completions', '-H', 'content-type: application/json', '-H', 'authorization: Bearer sk-test-outpost', '-d', chat]);
    expect(api.stderr).toBe('');
    expect((JSON.parse(api.stdout) as { choices: Array<{ message: { content: string } }> }).choices[0]?.message.content).toBe('Echo from gpt-4o-mini: hello from a runtime');
    const corp = await outpostRun(['curl', '-sS', '--fail', `https://${INTERNAL}/hello`]);
    expect(corp).toMatchObject({ code: 0, stdout: 'hello from the company host' });
  }, 60_000);

  it('git over HTTPS: clones from the company host, and its request to a governed host reaches the provider through the agent', async () => {
    const dest = path.join(work, 'clone');
    const clone = await outpostRun(['git', 'clone', '-q', `https://${INTERNAL}/repo.git`, dest]);
    expect(clone.stderr).toBe('');
    expect(await fs.readFile(path.join(dest, 'README'), 'utf8')).toBe('internal repository\n');
    expect(internalHits).toContain('/repo.git/info/refs');
    // No git server behind api.openai.com: git's TLS handshake with the agent succeeded and its request was governed and forwarded.
    const before = provider.requests.length;
    const governed = await outpostRun(['git', 'ls-remote', 'https://api.openai.com/repo.git']);
    expect(governed.code).not.toBe(0);
    expect(governed.stderr).not.toMatch(/certificate|SSL/i);
    expect(provider.requests.slice(before).map((r) => r.path)).toContain('/repo.git/info/refs?service=git-upload-pack');
  }, 60_000);
});
