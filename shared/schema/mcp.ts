/**
 * Remote MCP servers (Streamable HTTP, JSON-RPC 2.0), as policy governs them:
 *
 *   "mcp": { "unlisted": "allow",
 *            "servers": [{ "id": "tickets", "url": "https://mcp.tickets.example/mcp",
 *                          "tools": { "allow": ["*"], "deny": ["delete_*"] } }] }
 *
 * A listed server's host is intercepted by listing it. Each `tools/call` to it is checked against
 * its tool rules (a denied tool is refused with a JSON-RPC error, and removed from `tools/list`),
 * the input guardrails run on the call's arguments and the output guardrails on its result, and
 * one audit record is written per call. `unlisted` says what happens to MCP traffic on an
 * intercepted host that is not a listed server: `allow` (governed and recorded, every tool
 * allowed) or `block` (refused).
 */
import { z } from 'zod';
import { isDnsName } from './common.js';
import { providerRef } from './custom-provider.js';

/** A tool name or glob (`delete_*`, `*`). */
const toolPattern = z.string().min(1).regex(/^[A-Za-z0-9._:/*@-]+$/, 'expected a tool name, optionally with "*" (e.g. "delete_*")');

/** An MCP endpoint URL: `https://host[:port]/path`, no query or fragment. */
const mcpUrl = z
  .string()
  .trim()
  .superRefine((value, ctx) => {
    let url: URL | null = null;
    try {
      url = new URL(value);
    } catch {
      // reported below
    }
    if (url === null || url.protocol !== 'https:' || !isDnsName(url.hostname) || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
      ctx.addIssue({ code: 'custom', message: `"${value}" is not an MCP server URL: expected https://HOST/PATH (a DNS name, no query, fragment or credentials), e.g. "https://mcp.tickets.example/mcp"` });
    }
  });

export const mcpToolRules = z.strictObject({
  /** Tools the server may be asked to run (default all). */
  allow: z.array(toolPattern).default(['*']),
  /** Tools refused even if allowed (deny wins). */
  deny: z.array(toolPattern).default([]),
});
export type McpToolRules = z.infer<typeof mcpToolRules>;

export const mcpServer = z.strictObject({
  /** The server's name in audit records (`tickets`). */
  id: providerRef,
  url: mcpUrl,
  tools: mcpToolRules.prefault({}),
});
export type McpServer = z.infer<typeof mcpServer>;

export const mcpPolicy = z
  .strictObject({
    /** MCP traffic on an intercepted host that no listed server's URL names: govern it with every tool allowed, or refuse it. */
    unlisted: z.enum(['allow', 'block']).default('allow'),
    servers: z.array(mcpServer).default([]),
  })
  .superRefine((m, ctx) => {
    const ids = new Map<string, number>();
    const urls = new Map<string, number>();
    m.servers.forEach((s, i) => {
      const first = ids.get(s.id);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['servers', i, 'id'], message: `duplicate MCP server id "${s.id}" (also at servers[${first}])` });
      ids.set(s.id, i);
      // A URL that does not parse was reported by its own check.
      if (!URL.canParse(s.url)) return;
      const key = mcpEndpointKey(s.url);
      const same = urls.get(key);
      if (same !== undefined) ctx.addIssue({ code: 'custom', path: ['servers', i, 'url'], message: `the URL is also servers[${same}]'s` });
      urls.set(key, i);
    });
  });
export type McpPolicy = z.infer<typeof mcpPolicy>;

/** `host[:port]/path` of an MCP URL, lower-case host, no trailing slash: what requests are matched by. */
export function mcpEndpointKey(url: string): string {
  const u = new URL(url);
  const path = u.pathname.length > 1 && u.pathname.endsWith('/') ? u.pathname.slice(0, -1) : u.pathname;
  return `${u.hostname.toLowerCase()}${u.port === '' || u.port === '443' ? '' : `:${u.port}`}${path}`;
}
