/**
 * Inventory over sync against a real gateway (issue 14.3): the enrolled agent scans the device (here
 * a user home holding a Cursor MCP config), reports it, and the admin API lists its MCP server;
 * an administrator's deny of an app reaches the agent within the connection and refuses that app's
 * requests (in the provider's error shape, naming it); a denied MCP server's host becomes a blocked
 * host; an app first seen in traffic is reported at once and, undecided, follows the fleet's
 * "pending" setting (allowed, then blocked, then approved for the device); the decisions stay in
 * force across a restart without the gateway.
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
import type { InventoryDecisionsMessage } from '../../../shared/schema/protocol.js';
import { connected, enrolledHome, policyHandled, startSyncedAgent, syncOf } from './support.js';

const POLICY: PolicyInput = { version: 1, name: 'fleet-apps', interception: { hosts: ['api.anthropic.com'] } };
const CLAUDE_CODE_UA = 'claude-cli/2.0.14 (external, cli)';

/** The next decisions the agent applied that satisfy `test` (the gateway also answers each inventory report with the decisions as they stand). */
async function decisionsWhere(sync: ReturnType<typeof syncOf>, test: (m: InventoryDecisionsMessage) => boolean): Promise<void> {
  for (;;) {
    const [m] = (await once(sync, 'inventory')) as [InventoryDecisionsMessage];
    if (test(m)) return;
  }
}
const decided = (kind: string, key: string, decision: string) => (m: InventoryDecisionsMessage): boolean => m.items.some((i) => i.kind === kind && i.key === key && i.decision === decision);

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
    const applied = decisionsWhere(syncOf(t), decided('app', 'claude-code', 'denied'));
    expect((await gw.admin('POST', '/admin/v1/inventory/decisions', { kind: 'app', key: 'claude-code', name: 'Claude Code', decision: 'denied', scope: { kind: 'everyone' } })).status).toBe(200);
    await applied;
    const refused = await ask(CLAUDE_CODE_UA);
    expect(refused).toMatchObject({ status: 403, message: expect.stringContaining('"Claude Code" is denied by your organisation') });
    expect((await ask('my-script/1.0')).status).toBe(200);

    const mcpApplied = decisionsWhere(syncOf(t), decided('mcp', 'host:mcp.tickets.example', 'denied'));
    await gw.admin('POST', '/admin/v1/inventory/decisions', { kind: 'mcp', key: 'host:mcp.tickets.example', name: 'tickets', decision: 'denied', scope: { kind: 'everyone' } });
    await mcpApplied;
    expect(t.agent.gate.governor.compiled.policy.interception.blockedHosts).toContain('mcp.tickets.example');
  });

  it('reports an app the moment it first speaks, and follows the fleet setting for undecided apps', async () => {
    const GEMINI_UA = 'GeminiCLI/0.9.0 (linux; x64)';
    const devicesOf = async (key: string): Promise<Array<{ decision: string }> | undefined> =>
      ((await gw.admin('GET', '/admin/v1/inventory')).body.items as Array<{ kind: string; key: string; devices: Array<{ decision: string }> }>).find((i) => i.kind === 'app' && i.key === key)?.devices;
    expect(await devicesOf('gemini-cli')).toBeUndefined();
    // pending "allow": allowed, and reported without a rescan or a restart.
    expect((await ask(GEMINI_UA)).status).toBe(200);
    await expect.poll(() => devicesOf('gemini-cli'), { timeout: 20_000 }).toEqual([expect.objectContaining({ decision: 'pending' })]);
    expect(t.agent.inventory()?.apps).toContainEqual({ id: 'gemini-cli', name: 'Gemini CLI', source: 'traffic', location: GEMINI_UA, version: '0.9.0' });

    // pending "block": the undecided app is refused, naming it; an app nobody catalogued still passes.
    const blocking = decisionsWhere(syncOf(t), (m) => m.pending === 'block');
    expect((await gw.admin('PUT', '/admin/v1/inventory/settings', { pending: 'block' })).status).toBe(200);
    await blocking;
    expect(await ask(GEMINI_UA)).toMatchObject({ status: 403, message: expect.stringContaining('"Gemini CLI" is waiting for your organisation\'s approval') });
    expect((await ask('my-script/1.0')).status).toBe(200);

    // Approved for this device only: it passes again.
    const approved = decisionsWhere(syncOf(t), decided('app', 'gemini-cli', 'approved'));
    await gw.admin('POST', '/admin/v1/inventory/decisions', { kind: 'app', key: 'gemini-cli', name: 'Gemini CLI', decision: 'approved', scope: { kind: 'device', deviceId: syncOf(t).status().deviceId } });
    await approved;
    expect((await ask(GEMINI_UA)).status).toBe(200);
    await expect.poll(() => devicesOf('gemini-cli'), { timeout: 20_000 }).toEqual([expect.objectContaining({ decision: 'approved' })]);
  });

  it('keeps the decisions in force after a restart without the gateway', async () => {
    await t.stopAgent();
    await gw.close();
    t = await startSyncedAgent(home, { provider: { provider: t.provider, ca: t.upstreamCa } });
    expect((await ask(CLAUDE_CODE_UA)).status).toBe(403);
    expect(t.agent.gate.governor.compiled.policy.interception.blockedHosts).toContain('mcp.tickets.example');
  });
});
