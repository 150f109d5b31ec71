/**
 * Watching the managed config: IT may push a new one while the agent runs. Polled by stat (it works
 * for a file that does not exist yet and survives the rename an MDM agent writes with); when the
 * effective config changes, `onChange` gets the new one. A new file that does not validate is
 * refused and logged, and the config in force stays.
 */
import fs from 'node:fs';
import type { Logger } from '../log.js';
import type { ResolvedAgentConfig } from './load.js';

/** Options for {@link watchManagedConfig}. */
export interface WatchManagedConfigOptions {
  /** The file to watch. */
  readonly file: string;
  /** Loads the whole effective config again (user file plus managed file). */
  readonly load: () => Promise<ResolvedAgentConfig>;
  readonly current: ResolvedAgentConfig;
  readonly log: Logger;
  readonly onChange: (next: ResolvedAgentConfig) => void;
  /** Stat interval; default 2 s. */
  readonly intervalMs?: number;
}

/** Starts watching; returns the function that stops it. */
export function watchManagedConfig(options: WatchManagedConfigOptions): () => void {
  let current = JSON.stringify(options.current);
  let checking = Promise.resolve();
  const check = (): void => {
    checking = checking.then(async () => {
      let next: ResolvedAgentConfig;
      try {
        next = await options.load();
      } catch (err) {
        options.log.error({ file: options.file, err: (err as Error).message }, 'the managed config was refused; the config in force stays');
        return;
      }
      const text = JSON.stringify(next);
      if (text === current) return;
      current = text;
      options.onChange(next);
    });
  };
  const listener = (now: fs.Stats, before: fs.Stats): void => {
    if (now.mtimeMs !== before.mtimeMs || now.size !== before.size || now.ino !== before.ino) check();
  };
  fs.watchFile(options.file, { interval: options.intervalMs ?? 2000, persistent: false }, listener);
  // The watcher's baseline is its first stat: a file changed after `current` was loaded but before
  // that stat would never count as a change. One check now (its load reads after the baseline stat
  // was issued) closes that window.
  check();
  return () => fs.unwatchFile(options.file, listener);
}
