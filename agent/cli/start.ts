/** `outpost start`: run the agent in the foreground until Ctrl-C. */
import type { Command } from 'commander';
import { loadAgentConfig } from '../config/load.js';
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
      const config = await loadAgentConfig(opts.config ?? null);
      const log = createLogger(config.log.level);
      // Before the agent starts, so that a fault while starting is logged the same way.
      const lastResort = installLastResort(log);
      const agent = await startAgent(config, { logger: log });
      lastResort.guard(agent);
      for (const line of agent.describe()) process.stdout.write(`${line}\n`);
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void agent.stop().then(resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      lastResort.dispose();
    });
}
