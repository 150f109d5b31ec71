/** `outpost proxy enable|disable|status`: the system proxy (PAC), saved and restored. */
import type { Command } from 'commander';
import { loadAgentConfig, type ResolvedAgentConfig } from '../config/load.js';
import { detectProxyAdapter, SystemProxy, type SystemProxyStatus } from '../system/proxy/system-proxy.js';
import { SystemProxyError } from '../system/proxy/types.js';
import { pacUrlFor } from '../system/proxy/pac-url.js';
import { output } from './output.js';

async function open(configFile: string | undefined): Promise<{ config: ResolvedAgentConfig; proxy: SystemProxy }> {
  const config = await loadAgentConfig(configFile ?? null);
  const adapter = detectProxyAdapter();
  if (adapter === null) throw new SystemProxyError('SYSTEM_PROXY_UNSUPPORTED', `no system proxy settings on ${process.platform}: use "outpost env" or "outpost run"`);
  return { config, proxy: new SystemProxy(adapter, config.home) };
}

function statusText(s: SystemProxyStatus): string {
  return [
    `${s.description}: ${s.detail}`,
    s.applied ? 'AI hosts go to the agent (PAC)' : 'the system does not use the agent',
    s.state === null ? 'not enabled by Outpost' : `enabled by Outpost at ${s.state.enabledAt}${s.state.suspended ? ' (suspended: the agent is stopped)' : ''}; disable restores the previous settings`,
  ].join('\n');
}

/** Adds the `proxy` group to the command tree. */
export function registerProxy(program: Command): void {
  const group = program.command('proxy').description('the system proxy: send browsers and desktop apps to the agent through its PAC file');
  group
    .command('enable')
    .description('point the system proxy at the agent\'s PAC (the previous settings are saved for disable)')
    .option('-c, --config <file>', 'agent config file')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { config?: string; json?: boolean }) => {
      const { config, proxy } = await open(opts.config);
      const status = await proxy.enable(await pacUrlFor(config));
      output(opts.json, status, statusText(status));
    });
  group
    .command('disable')
    .description('put back the system proxy settings saved by enable')
    .option('-c, --config <file>', 'agent config file')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { config?: string; json?: boolean }) => {
      const { proxy } = await open(opts.config);
      const restored = await proxy.disable();
      output(opts.json, { restored }, restored ? 'the previous proxy settings are back' : 'Outpost had not enabled the system proxy: nothing to restore');
    });
  group
    .command('status')
    .description('what the system proxy is now, and whether it sends AI hosts to the agent')
    .option('-c, --config <file>', 'agent config file')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { config?: string; json?: boolean }) => {
      const { config, proxy } = await open(opts.config);
      const status = await proxy.status(await pacUrlFor(config));
      output(opts.json, status, statusText(status));
    });
}
