/**
 * The proxy auto-config file served at `/proxy.pac`: only the policy's AI hosts (intercepted and
 * blocked ones: the agent must see a blocked host to refuse it) go to the agent; bypassed hosts and
 * everything else keep their previous route. Matches on the host only (Chrome strips paths from
 * PAC URLs) and avoids `dnsResolve`/`isInNet`, which block the browser on DNS (FIELD-NOTES.md).
 */
import type { FailMode, Policy } from '../../shared/schema/policy.js';

/** What the PAC needs from the policy. */
export type PacHosts = Pick<Policy['interception'], 'hosts' | 'blockedHosts' | 'bypassHosts'>;

/** A PAC condition for one host pattern (ES3-safe: PAC engines are old). */
function condition(pattern: string): string {
  if (pattern.startsWith('*.')) return `dnsDomainIs(h, ${JSON.stringify(pattern.slice(1))})`;
  return `h == ${JSON.stringify(pattern)}`;
}

/**
 * Builds the PAC text. `failMode` open appends `; DIRECT` so the browser goes direct when the agent
 * is down; closed omits it, so AI traffic fails instead of escaping governance. `fallback` is the
 * route for everything else (`DIRECT`, or the proxy that was configured before).
 */
export function buildPac(hosts: PacHosts, proxyPort: number, failMode: FailMode, fallback: string): string {
  const agent = `PROXY 127.0.0.1:${proxyPort}${failMode === 'open' ? '; DIRECT' : ''}`;
  const ai = [...hosts.hosts, ...hosts.blockedHosts];
  const lines = [
    '// Outpost: only AI hosts go through the local agent.',
    'function FindProxyForURL(url, host) {',
    '  var h = host.toLowerCase();',
  ];
  if (hosts.bypassHosts.length > 0) lines.push(`  if (${hosts.bypassHosts.map(condition).join(' || ')}) return ${JSON.stringify(fallback)};`);
  if (ai.length > 0) lines.push(`  if (${ai.map(condition).join(' || ')}) return ${JSON.stringify(agent)};`);
  lines.push(`  return ${JSON.stringify(fallback)};`, '}', '');
  return lines.join('\n');
}
