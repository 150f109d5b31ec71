/** `outpost inventory [--json]`: the AI apps and MCP servers on this device, and config files that could not be read. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { loadAgentConfig } from '../config/load.js';
import { openDatabase, STORE_FILE } from '../store/database.js';
import { recentApps } from '../audit/records.js';
import { runPlan } from '../system/commands.js';
import { machineRoots } from '../system/inventory/locations.js';
import { scanInventory } from '../system/inventory/scan.js';
import type { DeviceInventory } from '../../shared/schema/inventory.js';
import { output } from './output.js';

/** Apps seen in traffic this long ago still count. */
const SEEN_DAYS = 30;

function lines(inv: DeviceInventory): string {
  const out = [`AI apps (${inv.apps.length})`];
  for (const a of inv.apps) out.push(`  ${a.name.padEnd(20)} ${a.source.padEnd(12)} ${a.location}${a.version ? ` (${a.version})` : ''}`);
  out.push(`MCP servers (${inv.mcpServers.length})`);
  for (const s of inv.mcpServers) {
    const target = s.transport === 'stdio' ? [s.command ?? '', ...s.args].join(' ') : (s.url ?? '');
    out.push(`  ${s.name.padEnd(20)} ${s.client.padEnd(14)} ${s.scope}  ${s.transport} ${target}${s.disabled ? ' (disabled)' : ''}`);
  }
  if (inv.problems.length > 0) {
    out.push(`Unreadable config files (${inv.problems.length})`);
    for (const p of inv.problems) out.push(`  ${p.file} (${p.client}): ${p.error}`);
  }
  return out.join('\n');
}

/** Adds `inventory` to the command tree. */
export function registerInventory(program: Command): void {
  program
    .command('inventory')
    .description('list the AI apps (installed and seen in traffic) and the MCP servers configured on this device')
    .option('-c, --config <file>', 'agent config file (its audit log gives the apps seen in traffic)')
    .option('-p, --project <dir...>', 'project folders to look in for .mcp.json, .cursor/, .vscode/, .gemini/ (besides those Claude Code lists)')
    .option('--json', 'print the inventory as JSON')
    .action(async (opts: { config?: string; project?: string[]; json?: boolean }) => {
      const config = await loadAgentConfig(opts.config ?? null);
      const store = path.join(config.home, STORE_FILE);
      let seen: Array<{ app: string | null; exe: string | null; last: string }> = [];
      if (fs.existsSync(store)) {
        const db = openDatabase(store, { readOnly: true });
        try {
          seen = recentApps(db, new Date(Date.now() - SEEN_DAYS * 86_400_000).toISOString());
        } finally {
          db.close();
        }
      }
      const inventory = await scanInventory({
        roots: machineRoots(process.env, os.homedir()),
        run: (plan) => runPlan(plan),
        pathVar: process.env.PATH ?? '',
        projects: (opts.project ?? []).map((p) => path.resolve(p)),
        seenUserAgents: seen,
      });
      output(opts.json, inventory, lines(inventory));
    });
}
