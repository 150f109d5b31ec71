/**
 * Inventory (issue 14.3): every MCP config format parsed from real-shaped files laid out where each
 * client keeps them (the locations table), unreadable files reported and never fatal, no secret in
 * the result; installed apps per OS (a Linux tree here, a macOS tree, the Windows registry's real
 * `reg query` output) and apps seen in traffic; `outpost inventory` on a fake home.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanInventory } from '../../../agent/system/inventory/scan.js';
import { parseUninstallKeys, parseDesktopFile, appForUserAgent } from '../../../agent/system/inventory/apps.js';
import { MCP_LOCATIONS, type InventoryRoots } from '../../../agent/system/inventory/locations.js';
import { cleanArgs } from '../../../agent/system/inventory/mcp-parsers.js';
import { deviceInventory, type McpServer } from '../../../shared/schema/inventory.js';
import type { CommandPlan } from '../../../agent/system/commands.js';
import { runOutpost } from '../../support/cli.js';
import { FIXTURE_SECRETS, layOutLinuxMachine } from './inventory-fixtures.js';

let dir: string;
let root: string;
let home: string;
let project: string;
let bin: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-inventory-'));
  root = path.join(dir, 'root');
  home = path.join(dir, 'home/alice');
  project = path.join(dir, 'home/alice/src/app');
  await layOutLinuxMachine(root, home, project);
  bin = path.join(dir, 'bin');
  await fs.mkdir(bin);
  for (const b of ['claude', 'codex', 'not-ai']) await fs.writeFile(path.join(bin, b), '#!/bin/sh\n', { mode: 0o755 });
  await fs.writeFile(path.join(bin, 'gemini'), 'not executable', { mode: 0o644 });
});
afterAll(async () => fs.rm(dir, { recursive: true, force: true }));

const roots = (platform: NodeJS.Platform = 'linux'): InventoryRoots => ({ platform, home, appData: '', programData: '', programFiles: '', systemRoot: root, codexHome: null });
const dpkg = async (plan: CommandPlan) => ({
  code: 0,
  stderr: '',
  stdout: plan.command === 'dpkg-query' ? 'bash\t5.2.15-2\tii \ncursor\t1.7.2\tii \nclaude-desktop\t0.9.3\trc \n' : '',
});
const byName = (servers: readonly McpServer[], name: string): McpServer => {
  const s = servers.find((x) => x.name === name);
  if (s === undefined) throw new Error(`no server ${name}`);
  return s;
};

describe('inventory', () => {
  it('finds every MCP server in every client format, with client, scope and transport', async () => {
    const inv = await scanInventory({ roots: roots(), run: dpkg, pathVar: bin, seenUserAgents: [] });
    deviceInventory.parse(inv);
    const found = inv.mcpServers.map((s) => `${s.client}/${s.scope}/${s.name}/${s.transport}`).sort();
    expect(found).toEqual(
      [
        'claude-desktop/user/filesystem/stdio',
        'claude-desktop/user/github/stdio',
        'claude-code/user/sentry/http',
        `claude-code/project:${project}/postgres/stdio`,
        `claude-code/project:${project}/playwright/stdio`,
        'claude-code/managed/company-internal/stdio',
        'cursor/user/linear/http',
        'cursor/user/context7/stdio',
        'vscode/user/github/http',
        'vscode/user/fetch/stdio',
        'windsurf/user/brave-search/stdio',
        'windsurf/user/remote/http',
        'codex/user/docs/stdio',
        'codex/user/figma/http',
        'gemini-cli/user/gemini-remote/http',
        'gemini-cli/system/corp/stdio',
      ].sort(),
    );
    expect(byName(inv.mcpServers, 'linear')).toMatchObject({ url: 'https://mcp.linear.app/sse', host: 'mcp.linear.app' });
    expect(byName(inv.mcpServers, 'github')).toMatchObject({ command: 'docker', envNames: ['GITHUB_PERSONAL_ACCESS_TOKEN'] });
    expect(byName(inv.mcpServers, 'figma')).toMatchObject({ disabled: true, envNames: ['FIGMA_OAUTH_TOKEN'], host: 'mcp.figma.com' });
    expect(byName(inv.mcpServers, 'remote')).toMatchObject({ disabled: true, host: 'mcp.example.com' });
  });

  it('never lets a secret out: env and header values dropped, URL credentials, query values and flag values redacted', async () => {
    const inv = await scanInventory({ roots: roots(), run: dpkg, pathVar: bin });
    const text = JSON.stringify(inv);
    for (const secret of FIXTURE_SECRETS) expect(text).not.toContain(secret);
    expect(byName(inv.mcpServers, 'postgres').args.at(-1)).toBe('postgresql://localhost:5432/app');
    expect(byName(inv.mcpServers, 'context7').args).toEqual(['-y', '@upstash/context7-mcp', '--api-key', '[REDACTED]']);
    expect(byName(inv.mcpServers, 'docs').args).toEqual(['--port', '4000', '--token=[REDACTED]']);
    expect(cleanArgs(['--keep', 'AKIAIOSFODNN7EXAMPLE'])[1]).not.toContain('AKIAIOSFODNN7EXAMPLE');
  });

  it('reports a cut-off file and a wrong shape with their errors, and still returns everything else', async () => {
    const inv = await scanInventory({ roots: roots(), run: dpkg, pathVar: bin });
    expect(inv.problems.map((p) => [p.client, path.relative(dir, p.file)])).toEqual(
      expect.arrayContaining([
        ['cursor', 'home/alice/src/app/.cursor/mcp.json'],
        ['gemini-cli', 'root/etc/gemini-cli/system-defaults.json'],
      ]),
    );
    expect(inv.problems).toHaveLength(2);
    expect(inv.problems.find((p) => p.client === 'cursor')?.error).toMatch(/not valid JSON/);
    expect(inv.problems.find((p) => p.client === 'gemini-cli')?.error).toMatch(/"mcpServers" is not an object/);
  });

  it('Linux apps: .desktop files by Name in [Desktop Entry], installed packages (not removed ones), AI tools on PATH', async () => {
    const inv = await scanInventory({ roots: roots(), run: dpkg, pathVar: bin });
    expect(inv.apps.map((a) => `${a.id}/${a.source}/${a.version ?? ''}`).sort()).toEqual(['claude-code/path/', 'claude/desktop-file/', 'codex/path/', 'cursor/desktop-file/', 'cursor/package/1.7.2'].sort());
    expect(parseDesktopFile('[Desktop Action x]\nName=Claude\n[Desktop Entry]\nName=Other\n').name).toBe('Other');
  });

  it('macOS bundles, the Windows uninstall registry (real reg query output), and apps seen in traffic', async () => {
    await fs.mkdir(path.join(root, 'Applications/ChatGPT.app/Contents'), { recursive: true });
    await fs.mkdir(path.join(home, 'Applications/Cursor.app'), { recursive: true });
    await fs.mkdir(path.join(root, 'Applications/Safari.app'), { recursive: true });
    const mac = await scanInventory({ roots: roots('darwin'), run: dpkg, pathVar: '', seenUserAgents: [{ app: 'claude-cli/2.0.14 (external, cli)', last: '2026-12-01T00:00:00Z' }, { app: 'curl/8.5.0', last: '2026-12-01T00:00:00Z' }] });
    expect(mac.apps.map((a) => `${a.id}/${a.source}/${a.version ?? ''}`).sort()).toEqual(['chatgpt/bundle/', 'claude-code/traffic/2.0.14', 'cursor/bundle/'].sort());
    expect(mac.mcpServers.map((s) => s.client)).not.toContain('claude-desktop'); // the Linux path is not read on macOS
    const reg = [
      'HKEY_LOCAL_MACHINE\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\{7A1B-OLLAMA}',
      '    DisplayName    REG_SZ    Ollama version 0.12.3',
      '    DisplayVersion    REG_SZ    0.12.3',
      '    Publisher    REG_SZ    Ollama',
      '',
      'HKEY_LOCAL_MACHINE\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\7-Zip',
      '    DisplayName    REG_SZ    7-Zip 24.08 (x64)',
      '',
      'HKEY_LOCAL_MACHINE\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\NoName',
      '    SystemComponent    REG_DWORD    0x1',
      '',
    ].join('\r\n');
    expect(parseUninstallKeys(reg)).toEqual([
      { key: 'HKEY_LOCAL_MACHINE\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\{7A1B-OLLAMA}', name: 'Ollama version 0.12.3', version: '0.12.3' },
      { key: 'HKEY_LOCAL_MACHINE\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\7-Zip', name: '7-Zip 24.08 (x64)', version: null },
    ]);
    const windows = await scanInventory({ roots: roots('win32'), run: async (plan) => ({ code: plan.args[1]?.startsWith('HKLM\\Software\\Microsoft') ? 0 : 1, stdout: reg, stderr: '' }), pathVar: '' });
    expect(windows.apps).toEqual([{ id: 'ollama', name: 'Ollama', source: 'registry', location: 'HKEY_LOCAL_MACHINE\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\{7A1B-OLLAMA}', version: '0.12.3' }]);
    expect(appForUserAgent('Mozilla/5.0 Cursor/1.7.2 Chrome/132')?.id).toBe('cursor');
  });

  it('the locations table has every client on every OS where it exists', () => {
    const clients = (platform: NodeJS.Platform) => [...new Set(MCP_LOCATIONS.filter((l) => l.files(roots(platform)).length > 0).map((l) => `${l.client}/${l.scope}`))].sort();
    const all = ['claude-code/managed', 'claude-code/user', 'claude-desktop/user', 'codex/user', 'cursor/user', 'gemini-cli/system', 'gemini-cli/user', 'vscode/user', 'windsurf/user'];
    for (const p of ['darwin', 'win32', 'linux'] as const) expect(clients(p)).toEqual(all);
    const winManaged = MCP_LOCATIONS.find((l) => l.client === 'claude-code' && l.scope === 'managed')!.files({ ...roots('win32'), programData: 'C:\\ProgramData', programFiles: 'C:\\Program Files' });
    expect(winManaged).toEqual(['C:\\Program Files\\ClaudeCode\\managed-mcp.json', 'C:\\ProgramData\\ClaudeCode\\managed-mcp.json']);
  });

  it('outpost inventory --json reads the user\'s home and the given project, exit 0 with problems listed', async () => {
    const res = await runOutpost(['inventory', '--json', '--project', project], { HOME: home, OUTPOST_HOME: path.join(dir, 'agent-home'), PATH: `${bin}:${process.env.PATH ?? ''}` });
    expect(res.code).toBe(0);
    const inv = deviceInventory.parse(JSON.parse(res.stdout));
    expect(inv.mcpServers.map((s) => s.name)).toEqual(expect.arrayContaining(['linear', 'postgres', 'playwright', 'docs']));
    expect(inv.problems.map((p) => p.client)).toContain('cursor');
    for (const secret of FIXTURE_SECRETS) expect(res.stdout).not.toContain(secret);
    const text = await runOutpost(['inventory', '--project', project], { HOME: home, OUTPOST_HOME: path.join(dir, 'agent-home'), PATH: `${bin}:${process.env.PATH ?? ''}` });
    expect(text.stdout).toMatch(/^MCP servers \(\d+\)$/m);
    expect(text.stdout).toMatch(/Unreadable config files \(1\)/);
  });
});
