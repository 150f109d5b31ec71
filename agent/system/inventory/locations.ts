/**
 * Where AI clients keep their MCP server configuration, per OS: the one table the scanner reads
 * (FIELD-NOTES "MCP server configuration files"). Project files are looked for in every project
 * folder the scan knows (the projects Claude Code lists, and any the caller adds).
 */
import path from 'node:path';

/** The folders a path is built from (tests pass a fake tree). */
export interface InventoryRoots {
  readonly platform: NodeJS.Platform;
  /** The user's home. */
  readonly home: string;
  /** Windows `%APPDATA%` (Roaming). */
  readonly appData: string;
  /** Windows `%ProgramData%`; elsewhere unused. */
  readonly programData: string;
  /** Windows `%ProgramFiles%`. */
  readonly programFiles: string;
  /** Prefix for absolute system paths (`/etc`, `/Library`): `/` normally, a fake root in tests. */
  readonly systemRoot: string;
  /** `CODEX_HOME` when set. */
  readonly codexHome: string | null;
}

/** The file format of a config, which selects its parser. */
export type McpFormat = 'mcp-servers-json' | 'claude-code-json' | 'vscode-json' | 'codex-toml';

/** One config location. */
export interface McpLocation {
  /** The client (`claude-desktop`, `claude-code`, …). */
  readonly client: string;
  /** `user`, `managed` or `system` (project files get `project:<folder>`). */
  readonly scope: 'user' | 'managed' | 'system';
  readonly format: McpFormat;
  /** The files on `roots.platform`; none where the client has no such file. */
  files(roots: InventoryRoots): string[];
}

/** One file a project folder may hold. */
export interface McpProjectFile {
  readonly client: string;
  readonly format: McpFormat;
  /** Relative to the project folder. */
  readonly relative: string;
}

const sys = (roots: InventoryRoots, ...parts: string[]): string => path.join(roots.systemRoot, ...parts);
const byOs = (map: Partial<Record<NodeJS.Platform, (r: InventoryRoots) => string[]>>) => (r: InventoryRoots): string[] => map[r.platform]?.(r) ?? [];
const win = path.win32;

/** The table: every client, every OS. */
export const MCP_LOCATIONS: readonly McpLocation[] = [
  {
    client: 'claude-desktop',
    scope: 'user',
    format: 'mcp-servers-json',
    files: byOs({
      darwin: (r) => [path.join(r.home, 'Library/Application Support/Claude/claude_desktop_config.json')],
      win32: (r) => [win.join(r.appData, 'Claude', 'claude_desktop_config.json')],
      // No official Linux build; the community builds use the XDG folder.
      linux: (r) => [path.join(r.home, '.config/Claude/claude_desktop_config.json')],
    }),
  },
  { client: 'claude-code', scope: 'user', format: 'claude-code-json', files: (r) => [path.join(r.home, '.claude.json')] },
  {
    client: 'claude-code',
    scope: 'managed',
    format: 'mcp-servers-json',
    files: byOs({
      darwin: (r) => [sys(r, 'Library/Application Support/ClaudeCode/managed-mcp.json')],
      linux: (r) => [sys(r, 'etc/claude-code/managed-mcp.json')],
      // Sources disagree on the Windows folder: both are read.
      win32: (r) => [win.join(r.programFiles, 'ClaudeCode', 'managed-mcp.json'), win.join(r.programData, 'ClaudeCode', 'managed-mcp.json')],
    }),
  },
  { client: 'cursor', scope: 'user', format: 'mcp-servers-json', files: (r) => [path.join(r.home, '.cursor', 'mcp.json')] },
  {
    client: 'vscode',
    scope: 'user',
    format: 'vscode-json',
    files: byOs({
      darwin: (r) => [path.join(r.home, 'Library/Application Support/Code/User/mcp.json')],
      win32: (r) => [win.join(r.appData, 'Code', 'User', 'mcp.json')],
      linux: (r) => [path.join(r.home, '.config/Code/User/mcp.json')],
    }),
  },
  { client: 'windsurf', scope: 'user', format: 'mcp-servers-json', files: (r) => [path.join(r.home, '.codeium', 'windsurf', 'mcp_config.json')] },
  { client: 'codex', scope: 'user', format: 'codex-toml', files: (r) => [path.join(r.codexHome ?? path.join(r.home, '.codex'), 'config.toml')] },
  { client: 'gemini-cli', scope: 'user', format: 'mcp-servers-json', files: (r) => [path.join(r.home, '.gemini', 'settings.json')] },
  {
    client: 'gemini-cli',
    scope: 'system',
    format: 'mcp-servers-json',
    files: byOs({
      linux: (r) => [sys(r, 'etc/gemini-cli/system-defaults.json'), sys(r, 'etc/gemini-cli/settings.json')],
      darwin: (r) => [sys(r, 'Library/Application Support/GeminiCli/system-defaults.json'), sys(r, 'Library/Application Support/GeminiCli/settings.json')],
      win32: (r) => [win.join(r.programData, 'gemini-cli', 'system-defaults.json'), win.join(r.programData, 'gemini-cli', 'settings.json')],
    }),
  },
];

/** Files a project folder may hold. */
export const MCP_PROJECT_FILES: readonly McpProjectFile[] = [
  { client: 'claude-code', format: 'mcp-servers-json', relative: '.mcp.json' },
  { client: 'cursor', format: 'mcp-servers-json', relative: '.cursor/mcp.json' },
  { client: 'vscode', format: 'vscode-json', relative: '.vscode/mcp.json' },
  { client: 'gemini-cli', format: 'mcp-servers-json', relative: '.gemini/settings.json' },
];

/** The roots of this machine. */
export function machineRoots(env: NodeJS.ProcessEnv, home: string, platform: NodeJS.Platform = process.platform): InventoryRoots {
  return {
    platform,
    home,
    appData: env.APPDATA ?? win.join(home, 'AppData', 'Roaming'),
    programData: env.ProgramData ?? 'C:\\ProgramData',
    programFiles: env.ProgramFiles ?? 'C:\\Program Files',
    systemRoot: '/',
    codexHome: env.CODEX_HOME ?? null,
  };
}
