/**
 * macOS: the auto proxy URL of every enabled network service (`networksetup`; Safari, Chrome and
 * most apps read it through CFNetwork). Needs administrator rights. Settings are keyed
 * `SERVICE\turl` and `SERVICE\tenabled`.
 */
import type { CommandPlan, ProxyAdapter, ProxySettings } from './types.js';
import { runOrThrow } from './types.js';

const ns = (...args: string[]): CommandPlan => ({ command: 'networksetup', args });

/** The enabled services in `networksetup -listallnetworkservices` output (a leading `*` marks a disabled one). */
export function parseServices(stdout: string): string[] {
  return stdout
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l, i) => l !== '' && !(i === 0 && l.startsWith('An asterisk')) && !l.startsWith('*'));
}

/** `networksetup -getautoproxyurl SERVICE`: `URL: …` (`(null)` when unset) and `Enabled: Yes|No`. */
export function parseAutoProxy(stdout: string): { url: string | null; enabled: boolean } {
  const url = /^URL: (.*)$/m.exec(stdout)?.[1]?.trim() ?? '(null)';
  return { url: url === '(null)' || url === '' ? null : url, enabled: /^Enabled: Yes$/m.test(stdout) };
}

const servicesOf = (settings: ProxySettings): string[] => [...new Set(Object.keys(settings).map((k) => k.split('\t')[0] ?? ''))].filter((s) => s !== '');

/** The macOS adapter. */
export const macosProxy: ProxyAdapter = {
  id: 'macos',
  description: 'macOS network services (networksetup auto proxy URL)',
  async read(run) {
    const services = parseServices((await runOrThrow(run, ns('-listallnetworkservices'))).stdout);
    const out: ProxySettings = {};
    for (const service of services) {
      const { url, enabled } = parseAutoProxy((await runOrThrow(run, ns('-getautoproxyurl', service))).stdout);
      out[`${service}\turl`] = url;
      out[`${service}\tenabled`] = enabled ? 'on' : 'off';
    }
    return out;
  },
  applyPlans: (pacUrl, current) => servicesOf(current).flatMap((s) => [ns('-setautoproxyurl', s, pacUrl), ns('-setautoproxystate', s, 'on')]),
  // networksetup cannot unset a URL: a service that had none gets its auto proxy turned off.
  restorePlans: (previous) =>
    servicesOf(previous).flatMap((s) => {
      const url = previous[`${s}\turl`] ?? null;
      return [...(url === null ? [] : [ns('-setautoproxyurl', s, url)]), ns('-setautoproxystate', s, previous[`${s}\tenabled`] === 'on' && url !== null ? 'on' : 'off')];
    }),
  uses: (current, pacUrl) => {
    const services = servicesOf(current);
    return services.length > 0 && services.every((s) => current[`${s}\turl`] === pacUrl && current[`${s}\tenabled`] === 'on');
  },
  describe: (current) =>
    servicesOf(current)
      .map((s) => `${s}: ${current[`${s}\tenabled`] === 'on' ? `PAC ${current[`${s}\turl`] ?? ''}` : 'no auto proxy'}`)
      .join('; ') || 'no network service',
};
