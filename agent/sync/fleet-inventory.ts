/**
 * The organisation's decisions on AI apps and MCP servers as this device holds them (issue 14.3):
 * received over sync (`inventory.decisions`, after each `inventory` the agent sends and whenever an
 * administrator decides) and kept in `<home>/gateway/inventory.json`, so a denied app stays denied
 * across a restart without the gateway. Until the first decisions arrive the local policy's
 * `inventory` section applies.
 */
import path from 'node:path';
import { inventoryDecisions, type InventoryDecisions } from '../../shared/schema/inventory.js';
import { readFileOrNull, writeFileAtomic } from '../system/files.js';

/** The decisions in force from the gateway, kept on disk. */
export class FleetInventory {
  private constructor(
    private readonly file: string,
    private current: InventoryDecisions | null,
  ) {}

  /** `<home>/gateway/inventory.json`. */
  static path(home: string): string {
    return path.join(home, 'gateway', 'inventory.json');
  }

  /** Loads the kept decisions; none kept is null, a damaged file is an error naming it. */
  static async load(home: string): Promise<FleetInventory> {
    const file = FleetInventory.path(home);
    const text = await readFileOrNull(file);
    if (text === null) return new FleetInventory(file, null);
    try {
      return new FleetInventory(file, inventoryDecisions.parse(JSON.parse(text)));
    } catch (err) {
      throw new Error(`${file} is damaged (${(err as Error).message.split('\n')[0] ?? ''}): remove it; the gateway sends the decisions again at the next connect`, { cause: err });
    }
  }

  /** The gateway's decisions, or null before the first arrived. */
  get decisions(): InventoryDecisions | null {
    return this.current;
  }

  /** Keeps new decisions; resolves true when they differ from those in force. */
  async save(decisions: InventoryDecisions): Promise<boolean> {
    const next = inventoryDecisions.parse({ pending: decisions.pending, items: decisions.items });
    if (JSON.stringify(next) === JSON.stringify(this.current)) return false;
    await writeFileAtomic(this.file, `${JSON.stringify(next, null, 2)}\n`, 0o600);
    this.current = next;
    return true;
  }
}
