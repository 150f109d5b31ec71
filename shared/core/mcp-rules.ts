/**
 * The policy's `mcp` block compiled once per policy version: which listed server a request is for
 * (by host, port and path), and whether a tool may be called on it, with the rule that decided in
 * words for the JSON-RPC error and the audit record.
 */
import { mcpEndpointKey, type McpPolicy } from '../schema/mcp.js';
import { compileModelPatterns, type ModelMatcher } from './model-patterns.js';

/** A listed server, compiled. */
export interface McpServerRules {
  readonly id: string;
  readonly url: string;
  readonly allow: ModelMatcher;
  readonly deny: ModelMatcher;
}

/** A tool's verdict: allowed, or refused by a named rule. */
export type ToolVerdict = { readonly allowed: true } | { readonly allowed: false; readonly rule: string };

/** The compiled `mcp` block. */
export interface McpRules {
  readonly unlisted: McpPolicy['unlisted'];
  /** True when the policy lists any server. */
  readonly any: boolean;
  /** The listed server `authority` (host[:port], lower case) and `path` (no query) address, or null. */
  server(authority: string, path: string): McpServerRules | null;
  /** May `tool` be called on `server` (null: an unlisted server, every tool allowed)? */
  tool(server: McpServerRules | null, tool: string): ToolVerdict;
}

const ALLOWED: ToolVerdict = { allowed: true };

/** Compiles the policy's `mcp` block. */
export function compileMcpRules(mcp: McpPolicy): McpRules {
  const byKey = new Map<string, McpServerRules>();
  for (const s of mcp.servers) byKey.set(mcpEndpointKey(s.url), { id: s.id, url: s.url, allow: compileModelPatterns(s.tools.allow), deny: compileModelPatterns(s.tools.deny) });
  return {
    unlisted: mcp.unlisted,
    any: byKey.size > 0,
    server(authority, path) {
      if (byKey.size === 0) return null;
      const p = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
      return byKey.get(`${authority}${p}`) ?? null;
    },
    tool(server, tool) {
      if (server === null) return ALLOWED;
      if (server.deny.allows(tool)) {
        const by = server.deny.patterns.find((p) => compileModelPatterns([p]).allows(tool)) ?? tool;
        return { allowed: false, rule: `tool "${tool}" is denied by "${by}" in mcp.servers "${server.id}" tools.deny` };
      }
      if (!server.allow.allows(tool)) return { allowed: false, rule: `tool "${tool}" matches none of mcp.servers "${server.id}" tools.allow (${server.allow.patterns.join(', ')})` };
      return ALLOWED;
    },
  };
}
