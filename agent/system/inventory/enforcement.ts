/**
 * What the fleet's inventory decisions mean on this device (issue 14.3): which app's traffic to
 * refuse (by its User-Agent, with a message naming the app) and which remote MCP server hosts to
 * block. Denied items are refused; items nobody decided on are refused only when the fleet setting
 * says `block` (else allowed and reported). Pure: the decisions and the local inventory come in.
 */
import type { DeviceInventory, InventoryDecisions } from '../../../shared/schema/inventory.js';
import { inventoryKey } from '../../../shared/core/inventory-keys.js';
import { appForUserAgent } from './apps.js';
import { appForExecutable } from './seen-apps.js';

/** Why an item is refused. */
export interface InventoryRefusal {
  readonly name: string;
  readonly reason: 'denied' | 'pending';
  /** The sentence the user's tool shows. */
  readonly message: string;
}

/** The decisions in force, evaluated. */
export class InventoryEnforcement {
  private readonly decided: Map<string, InventoryDecisions['items'][number]>;
  /** True when some app could be refused: one is denied, or undecided ones are blocked. */
  readonly restrictsApps: boolean;

  constructor(
    private readonly decisions: InventoryDecisions,
    private readonly inventory: DeviceInventory | null,
  ) {
    this.decided = new Map(decisions.items.map((i) => [`${i.kind}\u0000${i.key}`, i]));
    this.restrictsApps = decisions.pending === 'block' || decisions.items.some((i) => i.kind === 'app' && i.decision === 'denied');
  }

  private refusal(kind: 'app' | 'mcp', key: string, name: string): InventoryRefusal | null {
    const d = this.decided.get(`${kind}\u0000${key}`);
    const what = kind === 'app' ? 'the app' : 'the MCP server';
    if (d?.decision === 'denied') return { name: d.name, reason: 'denied', message: `Outpost blocked this request: ${what} "${d.name}" is denied by your organisation` };
    if (d === undefined && this.decisions.pending === 'block') return { name, reason: 'pending', message: `Outpost blocked this request: ${what} "${name}" is waiting for your organisation's approval` };
    return null;
  }

  /**
   * The refusal for a request from `userAgent`, sent by `process` where known (its executable names
   * the app when the User-Agent does not); null when its app is allowed or is not a known AI app.
   */
  appRefusal(userAgent: string | undefined, process: { readonly exe: string } | null = null): InventoryRefusal | null {
    // Hot path (every governed request): nothing to match while no app can be refused.
    if (!this.restrictsApps) return null;
    const app = (userAgent === undefined ? undefined : appForUserAgent(userAgent)) ?? (process === null ? undefined : appForExecutable(process.exe));
    return app === undefined ? null : this.refusal('app', inventoryKey({ kind: 'app', app }), app.name);
  }

  /** Remote MCP server hosts to block: every denied `host:` key, and the undecided ones of this device under `block`. */
  blockedMcpHosts(): string[] {
    const hosts = new Set<string>();
    for (const i of this.decisions.items) if (i.kind === 'mcp' && i.decision === 'denied' && i.key.startsWith('host:')) hosts.add(i.key.slice('host:'.length));
    for (const s of this.inventory?.mcpServers ?? []) {
      if (s.host !== null && this.refusal('mcp', inventoryKey({ kind: 'mcp', server: s }), s.name) !== null) hosts.add(s.host);
    }
    return [...hosts].sort();
  }
}
