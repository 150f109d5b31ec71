/** `outpost env` and `outpost run`: send a shell, or one command, through the running agent. */
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { Option } from 'commander';
import { loadAgentConfig } from '../config/load.js';
import { readRuntimeInfo } from '../control/runtime.js';
import { SHELLS, nodePreloadPath, proxyEnvironment, renderEnvironment, type ProxyTargets, type Shell } from '../system/env.js';

async function targets(configFile: string | undefined): Promise<ProxyTargets> {
  const config = await loadAgentConfig(configFile ?? null);
  const running = await readRuntimeInfo(config.home);
  if (running === null) throw new Error(`no agent is running with home ${config.home}: start one with "outpost start"`);
  return { proxyUrl: running.proxyUrl, caFile: running.caFile, bundleFile: running.bundleFile, nodePreload: nodePreloadPath(), nodeOptions: process.env.NODE_OPTIONS ?? '' };
}

function defaultShell(): Shell {
  if (process.platform === 'win32') return 'powershell';
  const name = (process.env.SHELL ?? '').split('/').pop() as Shell;
  return SHELLS.includes(name) ? name : 'bash';
}

/** Adds `env` and `run` to the command tree. */
export function registerEnv(program: Command): void {
  program
    .command('env')
    .description('print the exports that send this shell\'s tools through the agent: eval "$(outpost env)" (fish: outpost env | source; PowerShell: outpost env | Invoke-Expression)')
    .addOption(new Option('--shell <shell>', 'shell syntax').choices([...SHELLS]))
    .option('-c, --config <file>', 'agent config file')
    .action(async (opts: { shell?: Shell; config?: string }) => {
      process.stdout.write(renderEnvironment(proxyEnvironment(await targets(opts.config)), opts.shell ?? defaultShell()));
    });
  program
    .command('run')
    .description('run one command with its traffic sent through the agent: outpost run -- CMD ARGS…')
    .option('-c, --config <file>', 'agent config file')
    .argument('<command...>', 'the command and its arguments (after --)')
    .action(async (argv: string[], opts: { config?: string }) => {
      const env = { ...process.env, ...Object.fromEntries(proxyEnvironment(await targets(opts.config))) };
      const [cmd, ...args] = argv;
      const child = spawn(cmd as string, args, { stdio: 'inherit', env });
      const code = await new Promise<number>((resolve) => {
        child.once('error', (err) => {
          process.stderr.write(`outpost: cannot run ${cmd ?? ''}: ${err.message}\n`);
          resolve(127);
        });
        child.once('exit', (c, signal) => resolve(c ?? (signal ? 128 : 1)));
      });
      process.exitCode = code;
    });
}
