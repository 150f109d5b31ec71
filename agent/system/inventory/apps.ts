/**
 * AI apps installed on the device: one catalog, matched against what each OS lists. macOS: `.app`
 * bundles in /Applications and ~/Applications. Windows: the uninstall registry keys (`reg query …
 * /s`). Linux: `.desktop` files in the XDG application folders and installed packages
 * (`dpkg-query`). Everywhere: the AI command-line tools on PATH.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { AiApp } from '../../../shared/schema/inventory.js';
import type { CommandPlan, CommandResult } from '../commands.js';
import type { InventoryRoots } from './locations.js';

/** One known AI app and how each OS names it. */
export interface CatalogApp {
  readonly id: string;
  readonly name: string;
  /** macOS bundle names (`ChatGPT.app`). */
  readonly bundles?: readonly string[];
  /** Windows uninstall DisplayName, Linux .desktop Name=: matched whole-word, case-insensitive. */
  readonly displayName?: RegExp;
  /** Linux package names. */
  readonly packages?: readonly string[];
  /** Programs on PATH. */
  readonly binaries?: readonly string[];
  /** User-Agent products it sends (for apps seen in traffic). */
  readonly userAgents?: RegExp;
}

/** The catalog. */
export const AI_APPS: readonly CatalogApp[] = [
  { id: 'chatgpt', name: 'ChatGPT', bundles: ['ChatGPT.app'], displayName: /^ChatGPT\b/i, userAgents: /\bChatGPT\//i },
  { id: 'claude', name: 'Claude', bundles: ['Claude.app'], displayName: /^Claude(?! Code)\b/i, packages: ['claude-desktop'], userAgents: /\bClaude\/\d/i },
  { id: 'claude-code', name: 'Claude Code', binaries: ['claude'], userAgents: /\bclaude-cli\//i },
  { id: 'codex', name: 'Codex CLI', binaries: ['codex'], userAgents: /\bcodex_cli_rs\//i },
  { id: 'gemini-cli', name: 'Gemini CLI', binaries: ['gemini'], userAgents: /\bGeminiCLI\//i },
  { id: 'cursor', name: 'Cursor', bundles: ['Cursor.app'], displayName: /^Cursor\b/i, packages: ['cursor'], binaries: ['cursor', 'cursor-agent'], userAgents: /\bCursor\//i },
  { id: 'windsurf', name: 'Windsurf', bundles: ['Windsurf.app'], displayName: /^Windsurf\b/i, packages: ['windsurf'], binaries: ['windsurf'] },
  { id: 'vscode', name: 'Visual Studio Code', bundles: ['Visual Studio Code.app'], displayName: /^(Microsoft )?Visual Studio Code\b/i, packages: ['code'], binaries: ['code'], userAgents: /\bGitHubCopilotChat\//i },
  { id: 'copilot-cli', name: 'GitHub Copilot CLI', binaries: ['copilot'], userAgents: /\bcopilot\/\d/i },
  { id: 'ollama', name: 'Ollama', bundles: ['Ollama.app'], displayName: /^Ollama\b/i, packages: ['ollama'], binaries: ['ollama'] },
  { id: 'lm-studio', name: 'LM Studio', bundles: ['LM Studio.app'], displayName: /^LM Studio\b/i, binaries: ['lms'] },
  { id: 'jan', name: 'Jan', bundles: ['Jan.app'], displayName: /^Jan\b/i, packages: ['jan'] },
  { id: 'perplexity', name: 'Perplexity', bundles: ['Perplexity.app'], displayName: /^Perplexity\b/i },
  { id: 'aider', name: 'aider', binaries: ['aider'] },
  { id: 'goose', name: 'Goose', bundles: ['Goose.app'], displayName: /^Goose\b/i, binaries: ['goose'] },
];

/** Runs a command plan (the real runner, or a test's canned output). */
export type InventoryRunner = (plan: CommandPlan) => Promise<CommandResult>;

/** The uninstall keys Windows lists installed programs under. */
export const WINDOWS_UNINSTALL_KEYS = [
  'HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall',
  'HKLM\\Software\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall',
  'HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall',
];

/** `reg query KEY /s` output → one entry per subkey with its DisplayName and DisplayVersion. */
export function parseUninstallKeys(stdout: string): Array<{ key: string; name: string; version: string | null }> {
  const out: Array<{ key: string; name: string; version: string | null }> = [];
  for (const block of stdout.split(/\r?\n(?=HKEY_)/)) {
    const key = block.split(/\r?\n/)[0]?.trim() ?? '';
    const name = /^\s+DisplayName\s+REG_SZ\s+(.+?)\s*$/m.exec(block)?.[1];
    if (name === undefined) continue;
    out.push({ key, name, version: /^\s+DisplayVersion\s+REG_SZ\s+(.+?)\s*$/m.exec(block)?.[1] ?? null });
  }
  return out;
}

/** A `.desktop` file's `Name=` and `Exec=` in its `[Desktop Entry]` group (other groups and locales ignored). */
export function parseDesktopFile(text: string): { name: string | null; exec: string | null; hidden: boolean } {
  const entry = /^\[Desktop Entry\]\s*$([\s\S]*?)(?=^\[|(?![\s\S]))/m.exec(text)?.[1] ?? '';
  const get = (key: string): string | null => new RegExp(`^${key}=(.*)$`, 'm').exec(entry)?.[1]?.trim() ?? null;
  return { name: get('Name'), exec: get('Exec'), hidden: get('Hidden') === 'true' || get('NoDisplay') === 'true' };
}

const matchName = (name: string): CatalogApp | undefined => AI_APPS.find((a) => a.displayName?.test(name) === true);

async function listDir(dir: string): Promise<string[]> {
  return fs.readdir(dir).catch(() => []);
}

/** macOS bundles. */
async function macApps(roots: InventoryRoots): Promise<AiApp[]> {
  const out: AiApp[] = [];
  for (const dir of [path.join(roots.systemRoot, 'Applications'), path.join(roots.home, 'Applications')]) {
    for (const entry of await listDir(dir)) {
      const app = AI_APPS.find((a) => a.bundles?.includes(entry));
      if (app !== undefined) out.push({ id: app.id, name: app.name, source: 'bundle', location: path.join(dir, entry), version: null });
    }
  }
  return out;
}

/** Windows uninstall registry. */
async function windowsApps(run: InventoryRunner): Promise<AiApp[]> {
  const out: AiApp[] = [];
  for (const key of WINDOWS_UNINSTALL_KEYS) {
    const res = await run({ command: 'reg', args: ['query', key, '/s'] });
    if (res.code !== 0) continue;
    for (const entry of parseUninstallKeys(res.stdout)) {
      const app = matchName(entry.name);
      if (app !== undefined) out.push({ id: app.id, name: app.name, source: 'registry', location: entry.key, version: entry.version });
    }
  }
  return out;
}

/** Linux .desktop files and packages. */
async function linuxApps(roots: InventoryRoots, run: InventoryRunner): Promise<AiApp[]> {
  const out: AiApp[] = [];
  const dirs = [
    path.join(roots.systemRoot, 'usr/share/applications'),
    path.join(roots.systemRoot, 'usr/local/share/applications'),
    path.join(roots.systemRoot, 'var/lib/flatpak/exports/share/applications'),
    path.join(roots.systemRoot, 'var/lib/snapd/desktop/applications'),
    path.join(roots.home, '.local/share/applications'),
  ];
  for (const dir of dirs) {
    for (const entry of (await listDir(dir)).filter((e) => e.endsWith('.desktop'))) {
      const file = path.join(dir, entry);
      const parsed = parseDesktopFile(await fs.readFile(file, 'utf8').catch(() => ''));
      const app = parsed.name === null ? undefined : matchName(parsed.name);
      if (app !== undefined) out.push({ id: app.id, name: app.name, source: 'desktop-file', location: file, version: null });
    }
  }
  const wanted = new Map(AI_APPS.flatMap((a) => (a.packages ?? []).map((p) => [p, a] as const)));
  const res = await run({ command: 'dpkg-query', args: ['-W', '-f=${Package}\\t${Version}\\t${db:Status-Abbrev}\\n'] }).catch(() => null);
  for (const line of res?.code === 0 ? res.stdout.split('\n') : []) {
    const [pkg, version, status] = line.split('\t');
    const app = pkg === undefined ? undefined : wanted.get(pkg);
    if (app !== undefined && status?.startsWith('ii')) out.push({ id: app.id, name: app.name, source: 'package', location: pkg as string, version: version ?? null });
  }
  return out;
}

/** AI command-line tools on PATH. */
async function pathApps(pathVar: string, platform: NodeJS.Platform): Promise<AiApp[]> {
  const out: AiApp[] = [];
  const exts = platform === 'win32' ? ['.exe', '.cmd', '.ps1', ''] : [''];
  const dirs = [...new Set(pathVar.split(platform === 'win32' ? ';' : ':').filter((d) => d !== ''))];
  for (const app of AI_APPS) {
    for (const bin of app.binaries ?? []) {
      let found: string | null = null;
      for (const dir of dirs) {
        for (const ext of exts) {
          const candidate = path.join(dir, bin + ext);
          if (found === null && (await fs.access(candidate, fs.constants.X_OK).then(() => true, () => false))) found = candidate;
        }
      }
      if (found !== null) out.push({ id: app.id, name: app.name, source: 'path', location: found, version: null });
    }
  }
  return out;
}

/** The installed AI apps. */
export async function installedApps(roots: InventoryRoots, run: InventoryRunner, pathVar: string): Promise<AiApp[]> {
  const os = roots.platform === 'darwin' ? await macApps(roots) : roots.platform === 'win32' ? await windowsApps(run) : roots.platform === 'linux' ? await linuxApps(roots, run) : [];
  return [...os, ...(await pathApps(pathVar, roots.platform))];
}

/** The catalog app a User-Agent belongs to, if any. */
export function appForUserAgent(userAgent: string): CatalogApp | undefined {
  return AI_APPS.find((a) => a.userAgents?.test(userAgent) === true);
}
