/**
 * Approvals of AI apps and MCP servers (issue 14.3), kept in the store's settings: each device's
 * latest inventory, the administrators' decisions, and how undecided items are treated. A decision
 * has a scope (everyone, a team, a device); for a device the most specific one in force wins, the
 * newest among equals.
 */
import { z } from 'zod';
import {
  commandScope,
  inventoryDecisionValue,
  inventoryItemKind,
  inventoryPending,
  PROTOCOL_V,
  type InventoryDecisionsMessage,
} from '../../shared/schema/protocol.js';
import { deviceInventory } from '../../shared/schema/inventory.js';
import { commandApplies } from '../commands/scope.js';
import type { DeviceRow, GatewayStore } from '../store/store.js';

/** One stored decision. */
export const inventoryDecision = z.object({
  kind: inventoryItemKind,
  key: z.string().min(1).max(2048),
  name: z.string().max(256),
  decision: inventoryDecisionValue,
  scope: commandScope,
  at: z.string(),
});
export type InventoryDecision = z.infer<typeof inventoryDecision>;

/** A device's latest inventory as stored. */
export const storedInventory = z.object({ receivedAt: z.string(), inventory: deviceInventory });
export type StoredInventory = z.infer<typeof storedInventory>;

const DECISIONS = 'inventory.decisions';
const PENDING = 'inventory.pending';
const deviceSetting = (id: string): string => `inventory.device.${id}`;

/** Reads and writes the inventory settings. */
export class InventoryBook {
  constructor(private readonly store: GatewayStore) {}

  async decisions(): Promise<InventoryDecision[]> {
    return z.array(inventoryDecision).catch([]).parse((await this.store.getSetting(DECISIONS)) ?? []);
  }

  /** Adds `d`, replacing an earlier decision on the same item and scope. */
  async decide(d: InventoryDecision): Promise<void> {
    const same = (x: InventoryDecision): boolean => x.kind === d.kind && x.key === d.key && JSON.stringify(x.scope) === JSON.stringify(d.scope);
    await this.store.setSetting(DECISIONS, [...(await this.decisions()).filter((x) => !same(x)), d]);
  }

  async pending(): Promise<z.infer<typeof inventoryPending>> {
    return inventoryPending.catch('allow').parse((await this.store.getSetting(PENDING)) ?? 'allow');
  }

  setPending(value: z.infer<typeof inventoryPending>): Promise<void> {
    return this.store.setSetting(PENDING, value);
  }

  async inventory(deviceId: string): Promise<StoredInventory | null> {
    const parsed = storedInventory.safeParse(await this.store.getSetting(deviceSetting(deviceId)));
    return parsed.success ? parsed.data : null;
  }

  saveInventory(deviceId: string, value: StoredInventory): Promise<void> {
    return this.store.setSetting(deviceSetting(deviceId), value);
  }
}

const SPECIFICITY = { device: 2, team: 1, everyone: 0 } as const;

/** The decisions in force for `device`: per item, the most specific scope that covers it, the newest among equals. */
export function effectiveDecisions(decisions: readonly InventoryDecision[], device: Pick<DeviceRow, 'id' | 'team'>): InventoryDecision[] {
  const best = new Map<string, InventoryDecision>();
  for (const d of decisions) {
    if (!commandApplies(d.scope, device)) continue;
    const id = `${d.kind}\u0000${d.key}`;
    const held = best.get(id);
    if (held === undefined || SPECIFICITY[d.scope.kind] > SPECIFICITY[held.scope.kind] || (SPECIFICITY[d.scope.kind] === SPECIFICITY[held.scope.kind] && d.at >= held.at)) best.set(id, d);
  }
  return [...best.values()];
}

/** The `inventory.decisions` message for `device`. */
export async function decisionsMessage(book: InventoryBook, device: Pick<DeviceRow, 'id' | 'team'>): Promise<InventoryDecisionsMessage> {
  return {
    v: PROTOCOL_V,
    type: 'inventory.decisions',
    pending: await book.pending(),
    items: effectiveDecisions(await book.decisions(), device).map((d) => ({ kind: d.kind, key: d.key, name: d.name, decision: d.decision })),
  };
}
