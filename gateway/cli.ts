/**
 * `outpost gateway [--config FILE]`: runs the central gateway in the foreground until Ctrl-C.
 *
 * The `outpost` CLI lives in agent/, which must not import gateway/ (the two share only shared/).
 * So this file is the gateway's own entry point, with a stable contract (`runGateway(argv)` resolving
 * to an exit code), and the agent CLI reaches it by a dynamic import of the built file: no
 * compile-time dependency, and an agent build shipped without gateway/ says so instead of failing.
 */
import { Command, CommanderError } from 'commander';
import { loadGatewayConfig } from './config.js';
import { startGateway } from './server.js';
import { GATEWAY_VERSION } from './version.js';

/** Runs `outpost gateway` with `argv` (the arguments after `gateway`); resolves to the exit code. */
export async function runGateway(argv: readonly string[]): Promise<number> {
  const program = new Command('outpost gateway')
    .description('run the central gateway: admin API, agent enrollment and sync (Ctrl-C stops it)')
    .option('-c, --config <file>', 'gateway config file (JSON, examples/gateway.json); default: the defaults')
    .version(GATEWAY_VERSION, '-v, --version')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');
  try {
    program.parse([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : 2;
    throw err;
  }
  const opts = program.opts<{ config?: string }>();
  try {
    const config = await loadGatewayConfig(opts.config ?? null);
    const gateway = await startGateway(config);
    for (const line of gateway.describe()) process.stdout.write(`${line}\n`);
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        void gateway.close().then(resolve);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    return 0;
  } catch (err) {
    process.stderr.write(`outpost gateway: ${(err as Error).message}\n`);
    return 1;
  }
}
