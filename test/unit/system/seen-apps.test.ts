/**
 * Apps seen in traffic (issue 14.3): a request names its app by User-Agent first, by the process
 * that opened the connection when the User-Agent says nothing; one entry per catalog app, and only
 * a first sighting counts as new (what makes the agent report its inventory again).
 */
import { describe, expect, it } from 'vitest';
import { appForExecutable, SeenApps, trafficApp } from '../../../agent/system/inventory/seen-apps.js';

describe('apps seen in traffic', () => {
  it('names the app by User-Agent, with the version it gives', () => {
    expect(trafficApp({ userAgent: 'claude-cli/2.0.14 (external, cli)' })).toEqual({ id: 'claude-code', name: 'Claude Code', source: 'traffic', location: 'claude-cli/2.0.14 (external, cli)', version: '2.0.14' });
    expect(trafficApp({ userAgent: 'Mozilla/5.0 Cursor/1.7.2 Chrome/132' })?.version).toBe('1.7.2');
  });

  it('falls back to the owning process when the User-Agent is no catalog app', () => {
    const process = { exe: '/home/ann/.local/bin/aider', name: 'aider' };
    expect(trafficApp({ userAgent: 'python-requests/2.32', process })).toEqual({ id: 'aider', name: 'aider', source: 'traffic', location: '/home/ann/.local/bin/aider', version: null });
    // The User-Agent wins when both tell.
    expect(trafficApp({ userAgent: 'GeminiCLI/0.9.0 (linux; x64)', process })?.id).toBe('gemini-cli');
    expect(trafficApp({ userAgent: 'curl/8.5.0', process: { exe: '/usr/bin/curl', name: 'curl' } })).toBeNull();
    expect(trafficApp({ userAgent: null, process: null })).toBeNull();
  });

  it('knows executables by file name (Windows .exe too) and macOS bundles by path', () => {
    expect(appForExecutable('/usr/local/bin/ollama')?.id).toBe('ollama');
    expect(appForExecutable('C:\\Users\\ann\\AppData\\Local\\Programs\\cursor\\Cursor.exe')?.id).toBe('cursor');
    expect(appForExecutable('/Applications/ChatGPT.app/Contents/MacOS/ChatGPT')?.id).toBe('chatgpt');
    expect(appForExecutable('/usr/bin/python3')).toBeUndefined();
  });

  it('keeps one entry per app and reports only the first sighting as new', () => {
    const seen = new SeenApps();
    expect(seen.note({ userAgent: 'claude-cli/2.0.14 (external, cli)' })).toBe(true);
    expect(seen.note({ userAgent: 'claude-cli/2.0.15 (external, cli)' })).toBe(false);
    expect(seen.note({ userAgent: 'curl/8.5.0' })).toBe(false);
    expect(seen.list()).toEqual([expect.objectContaining({ id: 'claude-code', version: '2.0.15' })]);
    expect(seen.add([{ id: 'claude-code', name: 'Claude Code', source: 'traffic', location: 'claude-cli/1.0.0', version: '1.0.0' }, { id: 'codex', name: 'Codex CLI', source: 'path', location: '/usr/bin/codex', version: null }])).toBe(false);
    expect(seen.add([{ id: 'codex', name: 'Codex CLI', source: 'traffic', location: 'codex_cli_rs/0.40.0', version: '0.40.0' }])).toBe(true);
    expect(seen.list().map((a) => a.id)).toEqual(['claude-code', 'codex']);
  });
});
