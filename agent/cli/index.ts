/**
 * The command tree. One file per command group registers its commands here; `main.ts` runs it.
 * Unknown commands and flags exit 2 with a clear message (commander's `exitOverride` below).
 */
import { Command, CommanderError } from 'commander';
import { registerPolicy } from './policy.js';
import { registerStart } from './start.js';
import { registerEnv } from './env.js';
import { registerStatus } from './status.js';
import { registerSecret } from './secret.js';
import { registerCa } from './ca.js';
import { registerAudit } from './audit.js';
import { registerDemo } from './demo.js';
import { registerGateway } from './gateway.js';
import { registerTransparent } from './transparent.js';
import { registerDoctor } from './doctor.js';
import { registerProxy } from './proxy.js';
import { registerMdm } from './mdm.js';
import { registerInventory } from './inventory.js';
import { registerEnroll } from './enroll.js';
import { AGENT_VERSION } from '../version.js';

/** Builds the `outpost` command tree. */
export function buildProgram(): Command {
  const program = new Command('outpost')
    .description('Outpost: AI governance on this machine (intercepting proxy, policy, audit)')
    .version(AGENT_VERSION, '-v, --version')
    .showHelpAfterError('(run with --help for usage)')
    .showSuggestionAfterError(true)
    .configureHelp({ sortSubcommands: true })
    .exitOverride();
  registerStart(program);
  registerPolicy(program);
  registerEnv(program);
  registerStatus(program);
  registerSecret(program);
  registerCa(program);
  registerAudit(program);
  registerDemo(program);
  registerGateway(program);
  registerTransparent(program);
  registerDoctor(program);
  registerProxy(program);
  registerMdm(program);
  registerInventory(program);
  registerEnroll(program);
  // Subcommands inherit exitOverride only when set on each; do it once for the whole tree.
  for (const cmd of allCommands(program)) cmd.exitOverride().showHelpAfterError('(run with --help for usage)');
  return program;
}

function* allCommands(cmd: Command): Generator<Command> {
  for (const sub of cmd.commands) {
    yield sub;
    yield* allCommands(sub);
  }
}

/** Runs the CLI; resolves to the process exit code. */
export async function runCli(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are "errors" to commander; they exit 0. Usage errors exit 2.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return 2;
    }
    process.stderr.write(`outpost: ${(err as Error).message}\n`);
    return 1;
  }
}
