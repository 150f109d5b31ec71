/**
 * Opening a URL in the person's default browser: `xdg-open` on Linux, `open` on macOS, `start` on
 * Windows (the last two cannot run here: a thin adapter, the URL is always printed as well). Failing
 * to open is not an error: the person can copy the printed URL.
 */
import { spawn } from 'node:child_process';

/** The command that opens `url` on `platform`. */
export function browserCommand(url: string, platform: NodeJS.Platform = process.platform): { command: string; args: string[] } {
  if (platform === 'darwin') return { command: 'open', args: [url] };
  // `start` is a cmd built-in; the empty title keeps a quoted URL from being taken as one.
  if (platform === 'win32') return { command: 'cmd', args: ['/c', 'start', '""', url.replace(/&/g, '^&')] };
  return { command: 'xdg-open', args: [url] };
}

/** Tries to open `url`; resolves false when no browser could be started. */
export function openBrowser(url: string): Promise<boolean> {
  const { command, args } = browserCommand(url);
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: 'ignore', detached: true });
    child.once('error', () => resolve(false));
    child.once('spawn', () => {
      child.unref();
      resolve(true);
    });
  });
}
