/**
 * The identity of an inventory item across devices, so one decision covers every device that has
 * it: an app by its catalog id; a remote MCP server by its host (what policy can block); a local
 * one by its command line as reported (credentials already redacted).
 */
import type { AiApp, McpServer } from '../schema/inventory.js';

/** The key an administrator's decision names. */
export function inventoryKey(item: { readonly kind: 'app'; readonly app: Pick<AiApp, 'id'> } | { readonly kind: 'mcp'; readonly server: Pick<McpServer, 'host' | 'command' | 'args' | 'url'> }): string {
  if (item.kind === 'app') return item.app.id;
  const s = item.server;
  if (s.host !== null) return `host:${s.host}`;
  if (s.url !== null) return `url:${s.url}`;
  return `command:${[s.command ?? '', ...s.args].join(' ')}`;
}
