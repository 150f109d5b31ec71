/**
 * `/admin/v1/inventory`: what AI apps and MCP servers the fleet's devices report, and the
 * administrators' approvals (issue 14.3): approve or deny an item for everyone, a team or a device,
 * and say how undecided items are treated. A decision reaches connected devices at once.
 */
import { z } from 'zod';
import { ApiHttpError, parseInput } from '../http/errors.js';
import { readJson, sendJson } from '../http/io.js';
import { commandScope, inventoryDecisionValue, inventoryItemKind, inventoryPending } from '../../shared/schema/protocol.js';
import { inventoryKey } from '../../shared/core/inventory-keys.js';
import { effectiveDecisions, InventoryBook, type InventoryDecision } from '../inventory/decisions.js';
import { trail, type AdminDeps, type AdminRoute } from './context.js';

const decisionRequest = z.strictObject({
  kind: inventoryItemKind,
  key: z.string().min(1).max(2048),
  /** Shown to people (and in the agent's block message); defaults to the key. */
  name: z.string().min(1).max(256).optional(),
  decision: inventoryDecisionValue,
  scope: commandScope,
});
const pendingSetting = z.strictObject({ pending: inventoryPending });

/** One item across the fleet. */
interface ItemView {
  kind: 'app' | 'mcp';
  key: string;
  name: string;
  /** For MCP servers: how they are reached and by which clients. */
  detail: Record<string, unknown>;
  devices: Array<{ id: string; hostname: string; team: string | null; decision: 'approved' | 'denied' | 'pending' }>;
  decisions: InventoryDecision[];
}

export function inventoryRoutes(deps: AdminDeps): AdminRoute[] {
  const book = new InventoryBook(deps.store);
  const changed = (): Promise<void> => deps.store.publish({ kind: 'inventory' });
  return [
    {
      method: 'GET',
      path: '/admin/v1/inventory',
      handle: async ({ res }) => {
        const decisions = await book.decisions();
        const items = new Map<string, ItemView>();
        let reporting = 0;
        for (const device of await deps.store.listDevices()) {
          const stored = await book.inventory(device.id);
          if (stored === null) continue;
          reporting++;
          const inForce = effectiveDecisions(decisions, device);
          const add = (kind: 'app' | 'mcp', key: string, name: string, detail: Record<string, unknown>): void => {
            const id = `${kind}\u0000${key}`;
            const item = items.get(id) ?? { kind, key, name, detail, devices: [], decisions: decisions.filter((d) => d.kind === kind && d.key === key) };
            if (!item.devices.some((d) => d.id === device.id)) {
              const decision = inForce.find((d) => d.kind === kind && d.key === key)?.decision ?? 'pending';
              item.devices.push({ id: device.id, hostname: device.hostname, team: device.team, decision });
            }
            items.set(id, item);
          };
          for (const app of stored.inventory.apps) add('app', inventoryKey({ kind: 'app', app }), app.name, {});
          for (const s of stored.inventory.mcpServers) {
            add('mcp', inventoryKey({ kind: 'mcp', server: s }), s.name, { transport: s.transport, host: s.host, url: s.url, command: s.command, client: s.client });
          }
        }
        sendJson(res, 200, { pending: await book.pending(), devicesReporting: reporting, items: [...items.values()] });
      },
    },
    {
      method: 'GET',
      path: '/admin/v1/inventory/devices/:id',
      handle: async ({ res, params }) => {
        const stored = await book.inventory(params.id ?? '');
        if (stored === null) throw new ApiHttpError(404, 'not_found', `device "${params.id ?? ''}" has not reported an inventory`);
        sendJson(res, 200, stored);
      },
    },
    {
      method: 'POST',
      path: '/admin/v1/inventory/decisions',
      handle: async ({ req, res, locals }) => {
        const body = parseInput(decisionRequest, await readJson(req), 'the body');
        if (body.scope.kind === 'device' && (await deps.store.device(body.scope.deviceId)) === null) {
          throw new ApiHttpError(404, 'not_found', `there is no device "${body.scope.deviceId}"`);
        }
        const decision: InventoryDecision = { kind: body.kind, key: body.key, name: body.name ?? body.key, decision: body.decision, scope: body.scope, at: new Date().toISOString() };
        const before = (await book.decisions()).find((d) => d.kind === decision.kind && d.key === decision.key && JSON.stringify(d.scope) === JSON.stringify(decision.scope)) ?? null;
        await book.decide(decision);
        await trail(deps, locals.caller, { action: `inventory.${body.decision === 'approved' ? 'approve' : 'deny'}`, detail: { kind: body.kind, key: body.key, scope: body.scope }, before, after: decision });
        await changed();
        sendJson(res, 200, decision);
      },
    },
    {
      method: 'GET',
      path: '/admin/v1/inventory/settings',
      handle: async ({ res }) => sendJson(res, 200, { pending: await book.pending() }),
    },
    {
      method: 'PUT',
      path: '/admin/v1/inventory/settings',
      handle: async ({ req, res, locals }) => {
        const body = parseInput(pendingSetting, await readJson(req), 'the body');
        const before = await book.pending();
        await book.setPending(body.pending);
        await trail(deps, locals.caller, { action: 'settings.inventory-pending', detail: { pending: body.pending }, before: { pending: before }, after: { pending: body.pending } });
        await changed();
        sendJson(res, 200, body);
      },
    },
  ];
}
