/**
 * The organisation's app and MCP server decisions enforced on a real agent (issue 14.3), here from
 * the local policy's `inventory` section (an enrolled device takes its gateway's instead: see
 * test/integration/sync/inventory.test.ts). A denied app's requests are refused in the provider's
 * error shape with a message naming the app, and recorded; an undecided app is refused only when
 * `pending` says block; an app the catalog does not know passes; a denied remote MCP server's host
 * is a blocked host (its CONNECT refused); on Linux an app its User-Agent does not name is refused by
 * the process that sent it.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { dispatcherFor } from '../../support/clients.js';
import { rawRequest } from '../../support/raw-request.js';
import { startTestAgent, type TestAgent } from '../../support/agent.js';
import { readRecords } from '../../../agent/audit/records.js';
import type { PolicyInput } from '../../../shared/schema/policy.js';

const run = promisify(execFile);
const CLAUDE_CODE_UA = 'claude-cli/2.0.14 (external, cli)';
const policy = (inventory: PolicyInput['inventory']): PolicyInput => ({ version: 1, name: 'apps', interception: { hosts: ['api.anthropic.com', 'api.openai.com'] }, inventory });

let t: TestAgent | null = null;
afterEach(async () => {
  await t?.close();
  t = null;
});

async function ask(agent: TestAgent, userAgent: string): Promise<{ status: number; body: any }> {
  const dispatcher = dispatcherFor({ proxyUrl: agent.proxyUrl, ca: agent.caPem });
  try {
    const res = await rawRequest(dispatcher, 'https://api.anthropic.com/v1/messages', {
      headers: { 'user-agent': userAgent, 'x-api-key': 'sk-ant-user-key', 'anthropic-version': '2023-06-01' },
      json: { model: 'claude-sonnet-4-5', max_tokens: 20, messages: [{ role: 'user', content: 'hello' }] },
    });
    return { status: res.statusCode, body: await res.body.json() };
  } finally {
    await dispatcher.close();
  }
}

describe('app and MCP server decisions from the local policy', () => {
  it('refuses a denied app in the provider\'s shape, naming it, and records why; other apps pass', async () => {
    t = await startTestAgent({ policy: policy({ pending: 'allow', items: [{ kind: 'app', key: 'claude-code', name: 'Claude Code', decision: 'denied' }] }) });
    const denied = await ask(t, CLAUDE_CODE_UA);
    expect(denied.status).toBe(403);
    expect(denied.body).toMatchObject({ type: 'error', error: { message: expect.stringContaining('"Claude Code" is denied by your organisation') } });
    const record = readRecords(t.agent.store.audit.connection(), { afterSeq: 0 }).at(-1);
    expect(record).toMatchObject({ decision: 'block', rules: [expect.objectContaining({ id: 'inventory', kind: 'app-denied' })] });
    expect(t.provider.requests).toHaveLength(0);
    expect((await ask(t, 'my-script/1.0')).status).toBe(200);
  });

  it('refuses an undecided catalog app only when pending says block', async () => {
    t = await startTestAgent({ policy: policy({ pending: 'block', items: [] }) });
    const pending = await ask(t, CLAUDE_CODE_UA);
    expect(pending.status).toBe(403);
    expect(pending.body.error.message).toContain('waiting for your organisation\'s approval');
    expect((await ask(t, 'my-script/1.0')).status).toBe(200);
    await t.agent.applyPolicy((await import('../../../shared/schema/policy.js')).policy.parse(policy({ pending: 'block', items: [{ kind: 'app', key: 'claude-code', name: 'Claude Code', decision: 'approved' }] })), 'test');
    expect((await ask(t, CLAUDE_CODE_UA)).status).toBe(200);
  });

  it.runIf(process.platform === 'linux')('refuses a denied app named only by its process (its User-Agent says curl), and records the process', async () => {
    t = await startTestAgent({ policy: policy({ pending: 'allow', items: [{ kind: 'app', key: 'aider', name: 'aider', decision: 'denied' }] }) });
    const aider = path.join(t.home, 'bin', 'aider');
    await fs.mkdir(path.dirname(aider), { recursive: true });
    await fs.copyFile((await run('sh', ['-c', 'command -v curl'])).stdout.trim(), aider);
    await fs.chmod(aider, 0o755);
    const caFile = path.join(t.home, 'test-ca.pem');
    await fs.writeFile(caFile, t.caPem);
    const args = ['-sS', '--http1.1', '--cacert', caFile, '-x', t.proxyUrl, '-H', 'content-type: application/json', '-H', 'x-api-key: sk-ant-user-key', '-H', 'anthropic-version: 2023-06-01', '-d', JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 20, messages: [{ role: 'user', content: 'hello' }] }), 'https://api.anthropic.com/v1/messages'];
    const refused = JSON.parse((await run(aider, args)).stdout) as { error: { message: string } };
    expect(refused.error.message).toContain('"aider" is denied by your organisation');
    const record = readRecords(t.agent.store.audit.connection(), { afterSeq: 0 }).filter((r) => r.kind === 'request').at(-1);
    expect(record).toMatchObject({ decision: 'block', app: expect.stringMatching(/^curl\//), process: { name: 'aider', exe: await fs.realpath(aider) }, rules: [expect.objectContaining({ id: 'inventory', kind: 'app-denied' })] });
    expect(t.provider.requests).toHaveLength(0);
    // The same program under its own name passes.
    const curl = JSON.parse((await run('curl', args)).stdout) as { type?: string };
    expect(curl.type).toBe('message');
  });

  it('blocks a denied remote MCP server\'s host', async () => {
    t = await startTestAgent({ policy: policy({ items: [{ kind: 'mcp', key: 'host:mcp.tickets.example', name: 'tickets', decision: 'denied' }] }) });
    expect(t.agent.gate.governor.compiled.policy.interception.blockedHosts).toContain('mcp.tickets.example');
    const dispatcher = dispatcherFor({ proxyUrl: t.proxyUrl, ca: t.caPem });
    try {
      await expect(rawRequest(dispatcher, 'https://mcp.tickets.example/mcp', { json: { jsonrpc: '2.0', id: 1, method: 'tools/list' } })).rejects.toThrow();
    } finally {
      await dispatcher.close();
    }
  });
});
