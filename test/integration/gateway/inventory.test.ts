/**
 * Inventory over sync (issue 14.3): agents report their AI apps and MCP servers, the admin API lists
 * them across the fleet, approvals and denials scoped to everyone, a team or a device reach the
 * connected agents at once (most specific scope wins), and the pending setting travels with them.
 * The agent's side of a decision (which app and which MCP host it refuses) is checked on the
 * decisions message the gateway sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_V, type InventoryDecisionsMessage } from '../../../shared/schema/protocol.js';
import type { DeviceInventory, McpServer } from '../../../shared/schema/inventory.js';
import { InventoryEnforcement } from '../../../agent/system/inventory/enforcement.js';
import { SimAgent, startTestGateway, type TestGateway } from '../../support/gateway.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(() => gw.close());

const server = (name: string, host: string | null, command: string | null = null): McpServer => ({
  name,
  client: 'cursor',
  scope: 'user',
  file: '/home/a/.cursor/mcp.json',
  transport: host === null ? 'stdio' : 'http',
  command,
  args: [],
  url: host === null ? null : `https://${host}/mcp`,
  host,
  envNames: [],
  disabled: false,
});
const inventory = (apps: string[], servers: McpServer[]): DeviceInventory => ({
  scannedAt: '2026-12-05T00:00:00.000Z',
  apps: apps.map((id) => ({ id, name: id === 'cursor' ? 'Cursor' : id === 'chatgpt' ? 'ChatGPT' : id, source: 'bundle', location: `/Applications/${id}.app`, version: null })),
  mcpServers: servers,
  problems: [],
});
const report = async (agent: SimAgent, inv: DeviceInventory): Promise<InventoryDecisionsMessage> => {
  agent.send({ v: PROTOCOL_V, type: 'inventory', inventory: inv });
  return agent.next('inventory.decisions');
};

describe('inventory and approvals through the gateway', () => {
  it('lists what devices report, and pushes decisions by scope; the agent refuses what is denied, naming it', async () => {
    const redDev = await gw.enroll({ team: 'red', hostname: 'red-1' });
    const blueDev = await gw.enroll({ team: 'blue', hostname: 'blue-1' });
    const red = await SimAgent.connect(gw.url, redDev);
    const blue = await SimAgent.connect(gw.url, blueDev);
    const redInv = inventory(['cursor', 'chatgpt'], [server('linear', 'mcp.linear.app'), server('fs', null, 'npx')]);
    expect(await report(red, redInv)).toEqual({ v: PROTOCOL_V, type: 'inventory.decisions', pending: 'allow', items: [] });
    await report(blue, inventory(['cursor'], [server('linear', 'mcp.linear.app')]));

    const listed = await gw.admin('GET', '/admin/v1/inventory');
    expect(listed.status).toBe(200);
    expect(listed.body.devicesReporting).toBeGreaterThanOrEqual(2);
    const cursor = listed.body.items.find((i: { kind: string; key: string }) => i.kind === 'app' && i.key === 'cursor');
    expect(cursor.devices.map((d: { hostname: string; decision: string }) => `${d.hostname}:${d.decision}`).sort()).toEqual(['blue-1:pending', 'red-1:pending']);
    expect(listed.body.items.find((i: { key: string }) => i.key === 'host:mcp.linear.app')).toMatchObject({ kind: 'mcp', name: 'linear', detail: { transport: 'http', host: 'mcp.linear.app' } });
    expect((await gw.admin('GET', `/admin/v1/inventory/devices/${redDev.deviceId}`)).body.inventory).toEqual(redInv);

    // Deny Cursor for everyone, approve it for team blue: blue's more specific approval wins there.
    await gw.admin('POST', '/admin/v1/inventory/decisions', { kind: 'app', key: 'cursor', name: 'Cursor', decision: 'denied', scope: { kind: 'everyone' } });
    const redDecisions = await red.until('inventory.decisions', (m) => m.items.some((i) => i.key === 'cursor'));
    expect(redDecisions.items).toEqual([{ kind: 'app', key: 'cursor', name: 'Cursor', decision: 'denied' }]);
    await gw.admin('POST', '/admin/v1/inventory/decisions', { kind: 'app', key: 'cursor', name: 'Cursor', decision: 'approved', scope: { kind: 'team', team: 'blue' } });
    const blueDecisions = await blue.until('inventory.decisions', (m) => m.items.some((i) => i.key === 'cursor' && i.decision === 'approved'));
    expect(blueDecisions.items).toEqual([{ kind: 'app', key: 'cursor', name: 'Cursor', decision: 'approved' }]);

    // Deny the Linear MCP server for the red device only.
    await gw.admin('POST', '/admin/v1/inventory/decisions', { kind: 'mcp', key: 'host:mcp.linear.app', name: 'Linear MCP', decision: 'denied', scope: { kind: 'device', deviceId: redDev.deviceId } });
    const redNow = await red.until('inventory.decisions', (m) => m.items.length === 2);
    const onRed = new InventoryEnforcement(redNow, redInv);
    expect(onRed.appRefusal('Mozilla/5.0 (Macintosh) Cursor/1.7.2 Chrome/132.0')).toMatchObject({ reason: 'denied', message: 'Outpost blocked this request: the app "Cursor" is denied by your organisation' });
    expect(onRed.appRefusal('ChatGPT/1.2025.1 (Mac OS X)')).toBeNull(); // undecided, pending = allow
    expect(onRed.blockedMcpHosts()).toEqual(['mcp.linear.app']);
    const onBlue = new InventoryEnforcement(blueDecisions, null);
    expect(onBlue.appRefusal('Cursor/1.7.2')).toBeNull();
    expect(onBlue.blockedMcpHosts()).toEqual([]);

    // Pending = block: undecided items are refused too, on every device, at once.
    expect((await gw.admin('PUT', '/admin/v1/inventory/settings', { pending: 'block' })).status).toBe(200);
    const strict = await red.until('inventory.decisions', (m) => m.pending === 'block');
    const strictRed = new InventoryEnforcement(strict, redInv);
    expect(strictRed.appRefusal('ChatGPT/1.2025.1')).toMatchObject({ reason: 'pending', message: 'Outpost blocked this request: the app "ChatGPT" is waiting for your organisation\'s approval' });
    expect(strictRed.appRefusal('curl/8.5.0')).toBeNull(); // not an AI app: not an inventory item
    expect((await blue.until('inventory.decisions', (m) => m.pending === 'block')).pending).toBe('block');

    const after = await gw.admin('GET', '/admin/v1/inventory');
    const cursorNow = after.body.items.find((i: { key: string }) => i.key === 'cursor');
    expect(cursorNow.devices.map((d: { hostname: string; decision: string }) => `${d.hostname}:${d.decision}`).sort()).toEqual(['blue-1:approved', 'red-1:denied']);
    const trailEvents = (await gw.admin('GET', '/admin/v1/admin-audit')).body.events.map((e: { action: string }) => e.action);
    expect(trailEvents).toEqual(expect.arrayContaining(['inventory.deny', 'inventory.approve', 'settings.inventory-pending']));
    red.close();
    blue.close();
  });

  it('a device that reconnects gets the decisions in force after its next report; bad requests are refused naming the field', async () => {
    const dev = await gw.enroll({ team: 'green' });
    const agent = await SimAgent.connect(gw.url, dev);
    const got = await report(agent, inventory(['cursor'], []));
    expect(got.items.find((i) => i.key === 'cursor')?.decision).toBe('denied');
    agent.close();
    const bad = await gw.admin('POST', '/admin/v1/inventory/decisions', { kind: 'app', key: 'cursor', decision: 'maybe', scope: { kind: 'everyone' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.problems[0].path).toBe('$.decision');
    const nobody = await gw.admin('POST', '/admin/v1/inventory/decisions', { kind: 'app', key: 'cursor', decision: 'denied', scope: { kind: 'device', deviceId: 'dev-00000000-nope' } });
    expect(nobody.status).toBe(404);
    expect((await gw.admin('GET', '/admin/v1/inventory/devices/dev-00000000-nope')).status).toBe(404);
  });
});
