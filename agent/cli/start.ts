/** `outpost start`: run the agent in the foreground until Ctrl-C. */
import type { Command } from 'commander';
import { loadAgentConfig, type ResolvedAgentConfig } from '../config/load.js';
import { managedConfigPath } from '../config/managed.js';
import { watchManagedConfig } from '../config/watch.js';
import { startAgent } from '../agent.js';
import { createLogger } from '../log.js';
import { installLastResort } from './last-resort.js';

/** Adds `start` to the command tree. */
export function registerStart(program: Command): void {
  program
    .command('start')
    .description('run the agent in the foreground: proxy, CA, policy, audit; Ctrl-C stops it')
    .option('-c, --config <file>', 'agent config file (JSON); default: the embedded defaults')
    .action(async (opts: { config?: string }) => {
      const load = (): Promise<ResolvedAgentConfig> => loadAgentConfig(opts.config ?? null);
      let config = await load();
      const log = createLogger(config.log.level);
      // Before the agent starts, so that a fault while starting is logged the same way.
      const lastResort = installLastResort(log);
      const managedFile = await managedConfigPath();
      // A changed managed config restarts the agent in this process with the new one (ports, home and
      // the gateway can all change); Ctrl-C or SIGTERM ends the loop.
      for (;;) {
        const agent = await startAgent(config, { logger: log });
        lastResort.guard(agent);
        for (const line of agent.describe()) process.stdout.write(`${line}\n`);
        if (config.managed) process.stdout.write(`managed by ${config.managed.file}: ${config.managed.fields.join(', ')}\n`);
        const next = await new Promise<ResolvedAgentConfig | null>((resolve) => {
          const unwatch = managedFile === null ? () => undefined : watchManagedConfig({ file: managedFile, load, current: config, log, onChange: (c) => done(c) });
          const stop = (): void => done(null);
          const done = (value: ResolvedAgentConfig | null): void => {
            unwatch();
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
            resolve(value);
          };
          process.on('SIGINT', stop);
          process.on('SIGTERM', stop);
        });
        await agent.stop();
        if (next === null) break;
        log.warn({ file: managedFile, fields: next.managed?.fields ?? [] }, 'the managed config changed: restarting the agent with it');
        config = next;
      }
      lastResort.dispose();
    });
}
