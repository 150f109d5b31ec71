/**
 * `outpost gateway [--config FILE]`: hands over to the central gateway's own entry point
 * (gateway/cli.ts). agent/ must not import gateway/ (they share only shared/), so the built file is
 * loaded by path at run time: the agent keeps no compile-time dependency on the gateway, and a
 * laptop build without gateway/ answers with a clear error.
 */
import type { Command } from 'commander';

/** The contract of gateway/cli.ts. */
interface GatewayEntry {
  runGateway(argv: readonly string[]): Promise<number>;
}

/** Adds `gateway` to the command tree. */
export function registerGateway(program: Command): void {
  program
    .command('gateway')
    .description('run the central gateway (admin API, enrollment, agent sync); --config FILE')
    .helpOption(false)
    .allowUnknownOption(true)
    .allowExcessArguments(true)
    .argument('[args...]', 'passed to the gateway: --config FILE, --help')
    .action(async (args: string[]) => {
      // dist/agent/cli/gateway.js → dist/gateway/cli.js
      const entry = new URL('../../gateway/cli.js', import.meta.url);
      let gateway: GatewayEntry;
      try {
        gateway = (await import(entry.href)) as GatewayEntry;
      } catch (err) {
        throw new Error(`the central gateway is not part of this installation (${entry.pathname}): ${(err as Error).message}`, { cause: err });
      }
      process.exitCode = await gateway.runGateway(args);
    });
}
