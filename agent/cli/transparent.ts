/**
 * `outpost transparent enable|disable|status`: the OS redirect that sends every user's outgoing
 * HTTPS/HTTP (TCP 443/80) to the running agent's transparent listener, for apps that ignore proxy
 * settings. Linux (nftables, root); `watchdog` is the process `enable` leaves behind.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { loadAgentConfig } from '../config/load.js';
import { readRuntimeInfo } from '../control/runtime.js';
import { readRedirect, removeRedirect } from '../system/nftables.js';
import { originalDestinationUnavailable } from '../system/original-dst.js';
import { enableRedirect, listening, redirectTarget, watchAgent } from '../system/transparent-redirect.js';
import { output } from './output.js';

function linuxOnly(): void {
  if (process.platform !== 'linux') {
    throw new Error(`transparent redirection is built for Linux (nftables); on ${process.platform} see docs/transparent-macos-windows.md`);
  }
}

/** Adds `transparent` to the command tree. */
export function registerTransparent(program: Command): void {
  const group = program.command('transparent').description('redirect apps that ignore proxy settings to the agent (Linux, nftables, root)');

  group
    .command('enable')
    .description("redirect every other user's outgoing TCP 443/80 to the running agent (removed when the agent stops or dies)")
    .option('-c, --config <file>', 'the running agent’s config file')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { config?: string; json?: boolean }) => {
      linuxOnly();
      const config = await loadAgentConfig(opts.config ?? null);
      const target = redirectTarget(await readRuntimeInfo(config.home), path.join(config.home, 'runtime.json'));
      if (typeof target === 'string') throw new Error(target);
      const installed = await enableRedirect(target);
      const unavailable = originalDestinationUnavailable();
      output(
        opts.json,
        { enabled: true, ...installed, originalDestination: unavailable === null, originalDestinationUnavailable: unavailable },
        [
          `transparent redirect on: TCP 443/80 of every uid but ${installed.uid} → 127.0.0.1:${installed.port} (table inet outpost)`,
          `watchdog pid ${installed.watchdogPid ?? '?'} removes it if the agent (pid ${target.pid}) stops; "outpost transparent disable" removes it now`,
          ...(unavailable === null ? [] : [`WARNING  ${unavailable}: connections are routed by SNI/Host only`]),
        ].join('\n'),
      );
    });

  group
    .command('disable')
    .description('remove the redirect (one table: inet outpost)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { json?: boolean }) => {
      linuxOnly();
      const removed = await removeRedirect();
      output(opts.json, { removed }, removed ? 'transparent redirect removed' : 'no transparent redirect was installed');
    });

  group
    .command('status')
    .description('whether the redirect is installed, and whether the listener it points at is up')
    .option('--json', 'print the status as JSON')
    .action(async (opts: { json?: boolean }) => {
      linuxOnly();
      const installed = await readRedirect();
      const unavailable = originalDestinationUnavailable();
      if (installed === null) {
        output(opts.json, { installed: false, originalDestinationUnavailable: unavailable }, 'transparent redirect: off');
        return;
      }
      const up = await listening(installed.port);
      output(
        opts.json,
        { installed: true, ...installed, listening: up, originalDestinationUnavailable: unavailable },
        [
          `transparent redirect: on, TCP 443/80 of every uid but ${installed.uid} → 127.0.0.1:${installed.port} (${installed.scope})`,
          `listener ${up ? 'up' : 'DOWN: nothing listens there'}; watchdog pid ${installed.watchdogPid ?? 'none'}`,
          ...(unavailable === null ? [] : [`WARNING  ${unavailable}`]),
        ].join('\n'),
      );
      if (!up) process.exitCode = 3;
    });

  group
    .command('watchdog', { hidden: true })
    .description('(started by enable) remove the redirect when the agent process ends')
    .requiredOption('--pid <pid>', 'the agent’s process id', (v) => Number.parseInt(v, 10))
    .requiredOption('--port <port>', 'the transparent listener’s port', (v) => Number.parseInt(v, 10))
    .action(async (opts: { pid: number; port: number }) => {
      linuxOnly();
      await watchAgent(opts.pid, opts.port);
    });
}
