import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAiClient, anthropicClient } from '../support/clients.js';
import { startTestAgent, type TestAgent } from '../support/agent.js';
import { REPO_ROOT } from '../support/repo.js';
import { agentStatus } from '../../shared/schema/control.js';

const run = promisify(execFile);

describe('the whole agent, started as `outpost start` starts it', () => {
  let t: TestAgent;
  beforeAll(async () => {
    t = await startTestAgent({
      policy: {
        version: 3,
        name: 'e2e',
        interception: { hosts: ['api.openai.com', 'api.anthropic.com'] },
        guardrails: [
          { id: 'secrets', type: 'secrets', on: ['input'], action: 'block' },
          { id: 'pii', type: 'pii', on: ['input', 'output'], action: 'redact' },
        ],
      },
    });
  });
  afterAll(async () => t?.close());

  it('streams an OpenAI completion through the proxy with its CA, and audits it', async () => {
    const sdk = openAiClient({ proxyUrl: t.proxyUrl, ca: t.caPem, maxRetries: 0 });
    const stream = await sdk.client.chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hello there' }] });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    await sdk.close();
    expect(text).toBe('Echo from gpt-4o-mini: hello there');
    const seen = t.provider.requests.at(-1);
    expect(seen?.json).toMatchObject({ stream_options: { include_usage: true } });
    t.agent.store.audit.flushNow();
    const records = t.agent.store.audit.recordsAfter(0);
    expect(records.at(-1)).toMatchObject({ kind: 'request', host: 'api.openai.com', model: 'gpt-4o-mini', decision: 'allow', status: 200, stream: true, tokensEstimated: false });
    expect(records.at(-1)?.outputTokens).toBeGreaterThan(0);
  });

  it('refuses a prompt with a credential before it leaves the machine, in Anthropic\'s shape', async () => {
    const before = t.provider.requests.length;
    const sdk = anthropicClient({ proxyUrl: t.proxyUrl, ca: t.caPem, maxRetries: 0 });
    const err = await sdk.client.messages
      .create({ model: 'claude-haiku-4-5', max_tokens: 50, messages: [{ role: 'user', content: 'deploy with AKIAIOSFODNN7EXAMPLE please' }] })
      .catch((e: unknown) => e as { status: number; message: string });
    await sdk.close();
    expect(err).toMatchObject({ status: 403 });
    expect(String((err as { message: string }).message)).toContain('secrets');
    expect(String((err as { message: string }).message)).not.toContain('AKIAIOSFODNN7EXAMPLE');
    expect(t.provider.requests.length).toBe(before);
  });

  it('serves its status on the control API to the token holder only', async () => {
    const token = (await fs.readFile(path.join(t.home, 'control.token'), 'utf8')).trim();
    const denied = await fetch(`${t.agent.control.url}/v1/status`);
    expect(denied.status).toBe(401);
    const res = await fetch(`${t.agent.control.url}/v1/status`, { headers: { authorization: `Bearer ${token}` } });
    const status = agentStatus.parse(await res.json());
    expect(status.policy).toMatchObject({ name: 'e2e', version: 3 });
    expect(status.ca).toMatchObject({ keyStore: 'file', weakKeyStore: true });
    expect(status.engine.intercepted).toBeGreaterThan(0);
    const mode = (await fs.stat(path.join(t.home, 'control.token'))).mode & 0o777;
    expect(mode).toBe(0o600);
    const metrics = await (await fetch(`${t.agent.control.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
    expect(metrics).toMatch(/outpost_requests_total\{decision="allow",provider="openai",kind="request"\} [1-9]/);
  });

  it('tells `outpost env` where the running proxy and CA are', async () => {
    const { stdout } = await run(process.execPath, [path.join(REPO_ROOT, 'dist/agent/cli/main.js'), 'env', '--shell', 'bash'], { env: { ...process.env, OUTPOST_HOME: t.home } });
    expect(stdout).toContain(`export HTTPS_PROXY='${t.proxyUrl}'`);
    expect(stdout).toContain(`export NODE_EXTRA_CA_CERTS='${t.agent.ca.bundleFile}'`);
    expect(stdout).toMatch(/^export NODE_OPTIONS='--import "file:\/\/\/.*node-proxy-preload.js"/m);
    expect(stdout).toContain(`export SSL_CERT_FILE='${t.agent.ca.bundleFile}'`);
  });

  it('answers `outpost status` from the running agent', async () => {
    const cli = path.join(REPO_ROOT, 'dist/agent/cli/main.js');
    const { stdout } = await run(process.execPath, [cli, 'status', '--json'], { env: { ...process.env, OUTPOST_HOME: t.home } });
    expect(JSON.parse(stdout)).toMatchObject({ running: true, proxy: { address: t.proxyUrl }, policy: { name: 'e2e' } });
    const text = await run(process.execPath, [cli, 'status'], { env: { ...process.env, OUTPOST_HOME: t.home } });
    expect(text.stdout).toContain('key in file (weaker than the OS keychain)');
  });

  it('keeps the last good policy when the file turns invalid, and applies the next valid one', async () => {
    const file = path.join(t.home, 'policy.json');
    await fs.writeFile(file, JSON.stringify({ version: 4, name: 'broken', failMode: 'sideways' }));
    await expect.poll(() => t.agent.status().degraded.join(' '), { timeout: 5000 }).toContain('newer policy was refused');
    expect(t.agent.policy().policy.name).toBe('e2e');
    await fs.writeFile(file, JSON.stringify({ version: 5, name: 'fixed', interception: { hosts: ['api.openai.com'] } }));
    await expect.poll(() => t.agent.policy().policy.name, { timeout: 5000 }).toBe('fixed');
    expect(t.agent.status().degraded.join(' ')).not.toContain('refused');
  });
});
