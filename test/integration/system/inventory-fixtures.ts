/**
 * Real-shaped MCP config files (as each client writes them, secrets included so the tests can prove
 * none comes out) and the tree of a machine that has them, for the inventory tests.
 */
import fs from 'node:fs/promises';
import path from 'node:path';

/** Values that must never appear in an inventory. */
export const FIXTURE_SECRETS = ['ghp_1A2b3C4d5E6f7G8h9I0jKlMnOpQrStUvWxYz', 'hunter2', 'BSAabcdef1234567890', 'tok_abc123', 'ctx7sk-4b1e9f0c-55aa', 'sk-docs-very-secret', 'Bearer gem-xyz'];

export const CLAUDE_DESKTOP = JSON.stringify(
  {
    mcpServers: {
      filesystem: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', '/home/alice/Desktop'] },
      github: {
        command: 'docker',
        args: ['run', '-i', '--rm', '-e', 'GITHUB_PERSONAL_ACCESS_TOKEN', 'ghcr.io/github/github-mcp-server'],
        env: { GITHUB_PERSONAL_ACCESS_TOKEN: 'ghp_1A2b3C4d5E6f7G8h9I0jKlMnOpQrStUvWxYz' },
      },
    },
    globalShortcut: 'Ctrl+Space',
  },
  null,
  2,
);

export const claudeCode = (project: string): string =>
  JSON.stringify({
    numStartups: 42,
    installMethod: 'npm',
    mcpServers: { sentry: { type: 'http', url: 'https://mcp.sentry.dev/mcp' } },
    projects: {
      [project]: {
        allowedTools: [],
        mcpServers: { postgres: { type: 'stdio', command: 'npx', args: ['-y', '@modelcontextprotocol/server-postgres', 'postgresql://app:hunter2@localhost:5432/app'], env: {} } },
        hasTrustDialogAccepted: true,
      },
    },
  });

export const PROJECT_MCP = JSON.stringify({ mcpServers: { playwright: { command: 'npx', args: ['@playwright/mcp@latest'] } } });

export const CURSOR = JSON.stringify({
  mcpServers: {
    linear: { url: 'https://mcp.linear.app/sse' },
    context7: { command: 'npx', args: ['-y', '@upstash/context7-mcp', '--api-key', 'ctx7sk-4b1e9f0c-55aa'] },
  },
});

export const VSCODE = `{
  // MCP servers of this VS Code user (JSON with comments, trailing commas allowed)
  "inputs": [{ "type": "promptString", "id": "gh-token", "description": "GitHub token", "password": true }],
  "servers": {
    "github": { "type": "http", "url": "https://api.githubcopilot.com/mcp/", "headers": { "Authorization": "Bearer \${input:gh-token}" } },
    "fetch": { "type": "stdio", "command": "uvx", "args": ["mcp-server-fetch"], },
  },
}
`;

export const WINDSURF = JSON.stringify({
  mcpServers: {
    'brave-search': { command: 'npx', args: ['-y', '@modelcontextprotocol/server-brave-search'], env: { BRAVE_API_KEY: 'BSAabcdef1234567890' } },
    remote: { serverUrl: 'https://mcp.example.com/mcp?token=tok_abc123', disabled: true },
  },
});

export const CODEX = `model = "gpt-5-codex"
approval_policy = "on-request"

[mcp_servers.docs]
command = "docs-server"
args = ["--port", "4000", "--token=sk-docs-very-secret"]
env = { "API_KEY" = "sk-docs-very-secret" }

[mcp_servers.figma]
url = "https://mcp.figma.com/mcp"
bearer_token_env_var = "FIGMA_OAUTH_TOKEN"
enabled = false
`;

export const GEMINI = JSON.stringify({ theme: 'Default', mcpServers: { 'gemini-remote': { httpUrl: 'https://gemini-mcp.example.com/mcp', headers: { Authorization: 'Bearer gem-xyz' }, timeout: 5000 } } });
export const GEMINI_SYSTEM = JSON.stringify({ mcpServers: { corp: { command: 'corp-mcp' } } });
export const MANAGED = JSON.stringify({ mcpServers: { 'company-internal': { type: 'stdio', command: '/usr/local/bin/company-mcp-server', args: ['--config', '/etc/company/mcp.json'] } } });

/** Lays out a Linux machine under `root` (system) and `home` with every file above, one broken project file and one wrong shape. */
export async function layOutLinuxMachine(root: string, home: string, project: string): Promise<void> {
  const put = async (file: string, text: string): Promise<void> => {
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, text);
  };
  await put(path.join(home, '.config/Claude/claude_desktop_config.json'), CLAUDE_DESKTOP);
  await put(path.join(home, '.claude.json'), claudeCode(project));
  await put(path.join(project, '.mcp.json'), PROJECT_MCP);
  await put(path.join(project, '.cursor/mcp.json'), '{ "mcpServers": { "half": { "command": "x" '); // cut off mid-write
  await put(path.join(home, '.cursor/mcp.json'), CURSOR);
  await put(path.join(home, '.config/Code/User/mcp.json'), VSCODE);
  await put(path.join(home, '.codeium/windsurf/mcp_config.json'), WINDSURF);
  await put(path.join(home, '.codex/config.toml'), CODEX);
  await put(path.join(home, '.gemini/settings.json'), GEMINI);
  await put(path.join(root, 'etc/gemini-cli/settings.json'), GEMINI_SYSTEM);
  await put(path.join(root, 'etc/gemini-cli/system-defaults.json'), JSON.stringify({ mcpServers: ['not', 'an', 'object'] }));
  await put(path.join(root, 'etc/claude-code/managed-mcp.json'), MANAGED);
  await put(path.join(root, 'usr/share/applications/claude-desktop.desktop'), '[Desktop Entry]\nType=Application\nName=Claude\nName[de]=Claude\nExec=/usr/bin/claude-desktop %u\n\n[Desktop Action new]\nName=New chat\n');
  await put(path.join(root, 'usr/share/applications/gimp.desktop'), '[Desktop Entry]\nName=GNU Image Manipulation Program\nExec=gimp %U\n');
  await put(path.join(home, '.local/share/applications/cursor.desktop'), '[Desktop Entry]\nName=Cursor\nExec=/opt/Cursor/cursor %F\n');
}
