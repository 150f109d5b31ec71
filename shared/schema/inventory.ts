/**
 * The device inventory (issue 14.3): AI apps installed or seen in traffic, and MCP servers from the
 * config files of the AI clients. One shape for `outpost inventory --json`, the control API and the
 * sync protocol. Never a secret: environment variables and headers by name only, arguments and URLs
 * with credentials redacted.
 */
import { z } from 'zod';

/** How an MCP server is reached. */
export const mcpTransport = z.enum(['stdio', 'http', 'sse']);

/** One MCP server as a client's config declares it. */
export const mcpServer = z.object({
  /** The name the config gives it. */
  name: z.string(),
  /** Which client's config (`claude-desktop`, `claude-code`, `cursor`, `vscode`, `windsurf`, `codex`, `gemini-cli`). */
  client: z.string(),
  /** Where in that config: `user`, `managed`, `system`, or `project:<folder>`. */
  scope: z.string(),
  /** The file it came from. */
  file: z.string(),
  transport: mcpTransport,
  /** stdio: the program and its arguments (credentials redacted). */
  command: z.string().nullable(),
  args: z.array(z.string()),
  /** Remote: the URL (credentials redacted) and its host, which policy can block. */
  url: z.string().nullable(),
  host: z.string().nullable(),
  /** Names of the environment variables and headers it is given (never their values). */
  envNames: z.array(z.string()),
  disabled: z.boolean(),
});
export type McpServer = z.infer<typeof mcpServer>;

/** An AI app on the device. */
export const aiApp = z.object({
  /** Catalog id (`chatgpt`, `claude`, `cursor`, …). */
  id: z.string(),
  name: z.string(),
  /** How it was found: an app bundle, a .desktop file, a package, the uninstall registry, a program on PATH, traffic. */
  source: z.enum(['bundle', 'desktop-file', 'package', 'registry', 'path', 'traffic']),
  /** Where (a path, a package name, a registry key, a User-Agent). */
  location: z.string(),
  version: z.string().nullable(),
});
export type AiApp = z.infer<typeof aiApp>;

/** A config file that exists but could not be read: reported, never fatal. */
export const inventoryProblem = z.object({ file: z.string(), client: z.string(), error: z.string() });
export type InventoryProblem = z.infer<typeof inventoryProblem>;

/** Everything found on one scan. */
export const deviceInventory = z.object({
  scannedAt: z.string(),
  apps: z.array(aiApp),
  mcpServers: z.array(mcpServer),
  problems: z.array(inventoryProblem),
});
export type DeviceInventory = z.infer<typeof deviceInventory>;

/** What an inventory item is: an AI app (by catalog id) or an MCP server (by `inventoryKey`). */
export const inventoryItemKind = z.enum(['app', 'mcp']);
/** An administrator's decision on an item. */
export const inventoryDecisionValue = z.enum(['approved', 'denied']);
/** How items nobody decided on are treated: allowed and reported, or blocked. */
export const inventoryPending = z.enum(['allow', 'block']);

/**
 * Decisions on AI apps and MCP servers: from the central gateway (`inventory.decisions`), or from the
 * local policy (`inventory`) on a device without one. Denied items are refused; items nobody decided
 * on are allowed and reported, or blocked, as `pending` says.
 */
export const inventoryDecisions = z.object({
  pending: inventoryPending.default('allow'),
  items: z.array(z.object({ kind: inventoryItemKind, key: z.string().min(1).max(2048), name: z.string().max(256), decision: inventoryDecisionValue })).default([]),
});
export type InventoryDecisions = z.infer<typeof inventoryDecisions>;
