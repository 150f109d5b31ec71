/**
 * Inventory over sync against a real gateway (issue 14.3): the enrolled agent scans the device (here
 * a user home holding a Cursor MCP config), reports it, and the admin API lists its MCP server;
 * an administrator's deny of an app reaches the agent within the connection and refuses that app's
 * requests (in the provider's error shape, naming it); a denied MCP server's host becomes a blocked
 * host; the decisions stay in force across a restart without the gateway.
 */
import { once } from 'node:events';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { dispatcherFor } from '../../support/clients.js';
import { rawRequest } from '../../support/raw-request.js';
import type { TestAgent } from '../../support/agent.js';
import type { PolicyInput } from '../../../shared/schema/policy.js';
import { connected, enrolledHome, policyHandled, startSyncedAgent, syncOf } from './support.js';

const POLICY: PolicyInput = { version: 1, name: 'fleet-apps', interception: { hosts: ['api.anthropic.com'] } };
const CLAUDE_CODE_UA = 'claude-cli/2.0.14 (external, cli)';

describe('inventory and app decisions over sync', () => {
  let gw: TestGateway;
  let home: string;
  let t: TestAgent;

  async function ask(userAgent: string): Promise<{ status: number; message: string }> {
    const dispatcher = dispatcherFor({ proxyUrl: t.proxyUrl, ca: t.caPem });
    try {
      const res = await rawRequest(dispatcher, 'https://api.anthropic.com/v1/messages', {
        headers: { 'user-agent': userAgent, 'x-api-key': 'sk-ant-user-key', 'anthropic-version': '2023-06-01' },
        json: { model: 'claude-sonnet-4-5', max_tokens: 20, messages: [{ role: 'user', content: 'hello' }] },
      });
      const body = (await res.body.json()) as { error?: { message?: string } };
      return { status: res.statusCode, message: body.error?.message ?? '' };
    } finally {
      await dispatcher.close();
    }
  }

  beforeAll(async () => {
    gw = await startTestGateway();
    await gw.admin('PUT', '/admin/v1/policy', POLICY);
    home = await enrolledHome(gw);
    await fs.mkdir(path.join(home, '.cursor'), { recursive: true });
    await fs.writeFile(path.join(home, '.cursor', 'mcp.json'), JSON.stringify({ mcpServers: { tickets: { url: 'https://mcp.tickets.example/mcp' } } }));
    t = await startSyncedAgent(home, { start: { inventoryScan: true } });
    await connected(syncOf(t));
    await policyHandled(syncOf(t), 1);
  });
  afterAll(async () => {
    await t?.close();
    await gw?.close();
    if (home) await fs.rm(home, { recursive: true, force: true });
  });

  it('reports the device\'s MCP servers to the gateway', async () => {
    await expect
      .poll(async () => ((await gw.admin('GET', '/admin/v1/inventory')).body.items as Array<{ kind: string; key: string }>).map((i) => `${i.kind} ${i.key}`), { timeout: 20_000 })
      .toContain('mcp host:mcp.tickets.example');
    expect(t.agent.inventory()?.mcpServers.map((s) => s.host)).toContain('mcp.tickets.example');
  });

  it('applies an administrator\'s deny of an app and of an MCP server at once', async () => {
    expect((await ask(CLAUDE_CODE_UA)).status).toBe(200);
    const applied = once(syncOf(t), 'inventory');
    expect((await gw.admin('POST', '/admin/v1/inventory/decisions', { kind: 'app', key: 'claude-code', name: 'Claude Code', decision: 'denied', scope: { kind: 'everyone' } })).status).toBe(200);
    await applied;
    const refused = await ask(CLAUDE_CODE_UA);
    expect(refused).toMatchObject({ status: 403, message: expect.stringContaining('"Claude Code" is denied by your organisation') });
    expect((await ask('my-script/1.0')).status).toBe(200);

    const mcpApplied = once(syncOf(t), 'inventory');
    await gw.admin('POST', '/admin/v1/inventory/decisions', { kind: 'mcp', key: 'host:mcp.tickets.example', name: 'tickets', decision: 'denied', scope: { kind: 'everyone' } });
    await mcpApplied;
    expect(t.agent.gate.governor.compiled.policy.interception.blockedHosts).toContain('mcp.tickets.example');
  });

  it('keeps the decisions in force after a restart without the gateway', async () => {
    await t.stopAgent();
    await gw.close();
    t = await startSyncedAgent(home, { provider: { provider: t.provider, ca: t.upstreamCa } });
    expect((await ask(CLAUDE_CODE_UA)).status).toBe(403);
    expect(t.agent.gate.governor.compiled.policy.interception.blockedHosts).toContain('mcp.tickets.example');
  });
});
