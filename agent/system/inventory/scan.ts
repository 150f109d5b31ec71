/**
 * One inventory scan: every MCP config location of this OS (and of every project folder it learns
 * of), the installed AI apps, and the apps seen in traffic. A file that is missing is skipped; one
 * that cannot be read or parsed is reported with the error, and the scan goes on.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { AiApp, DeviceInventory, InventoryProblem, McpServer } from '../../../shared/schema/inventory.js';
import { MCP_LOCATIONS, MCP_PROJECT_FILES, type InventoryRoots, type McpFormat } from './locations.js';
import { MCP_PARSERS } from './mcp-parsers.js';
import { installedApps, type InventoryRunner } from './apps.js';
import { trafficApp } from './seen-apps.js';

/** What a scan reads. */
export interface ScanOptions {
  readonly roots: InventoryRoots;
  readonly run: InventoryRunner;
  /** `PATH`, for command-line tools. */
  readonly pathVar: string;
  /** Project folders to look in besides those Claude Code lists. */
  readonly projects?: readonly string[];
  /** Sources seen in traffic (from the audit log): the User-Agent and, where known, the sending process's executable. */
  readonly seenUserAgents?: ReadonlyArray<{ readonly app: string | null; readonly exe?: string | null; readonly last: string }>;
  readonly now?: () => Date;
}

/** Config files above this are not configs (and are not read whole). */
const MAX_CONFIG_BYTES = 8 * 1024 * 1024;

async function readConfig(file: string): Promise<string | null> {
  const stat = await fs.stat(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return null;
    throw err;
  });
  if (stat === null) return null;
  if (!stat.isFile()) throw new Error('not a regular file');
  if (stat.size > MAX_CONFIG_BYTES) throw new Error(`${stat.size} bytes: too large for a config file`);
  return fs.readFile(file, 'utf8');
}

/** Scans the device. */
export async function scanInventory(options: ScanOptions): Promise<DeviceInventory> {
  const servers: McpServer[] = [];
  const problems: InventoryProblem[] = [];
  const projects = new Set(options.projects ?? []);
  const read = async (file: string, client: string, scope: string, format: McpFormat): Promise<void> => {
    try {
      const text = await readConfig(file);
      if (text === null) return;
      const parsed = MCP_PARSERS[format](text, { client, scope, file });
      servers.push(...parsed.servers);
      for (const p of parsed.projects) projects.add(p);
    } catch (err) {
      problems.push({ file, client, error: (err as Error).message });
    }
  };
  for (const location of MCP_LOCATIONS) for (const file of location.files(options.roots)) await read(file, location.client, location.scope, location.format);
  for (const folder of projects) {
    for (const p of MCP_PROJECT_FILES) await read(path.join(folder, p.relative), p.client, `project:${folder}`, p.format);
  }
  const apps: AiApp[] = await installedApps(options.roots, options.run, options.pathVar);
  const seenIds = new Set<string>();
  for (const seen of options.seenUserAgents ?? []) {
    const app = trafficApp({ userAgent: seen.app, process: seen.exe == null ? null : { exe: seen.exe, name: seen.exe.split(/[\\/]/).at(-1) ?? seen.exe } });
    // One entry per app (the busiest source first, as the audit lists them).
    if (app !== null && !seenIds.has(app.id)) {
      seenIds.add(app.id);
      apps.push(app);
    }
  }
  return { scannedAt: (options.now?.() ?? new Date()).toISOString(), apps, mcpServers: servers, problems };
}
