/** Path rules of the config contract: `~` expands, relative paths resolve against the config's folder. */
import os from 'node:os';
import path from 'node:path';

/** Expands a leading `~` and resolves `p` against `base` (the config file's folder). */
export function resolvePath(p: string, base: string): string {
  if (p === '~') return os.homedir();
  if (p.startsWith('~/')) return path.join(os.homedir(), p.slice(2));
  return path.resolve(base, p);
}
