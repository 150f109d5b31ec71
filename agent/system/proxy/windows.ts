/**
 * Windows: WinINET (browsers, most desktop apps) reads `AutoConfigURL` under the user's Internet
 * Settings key and must be told it changed (`InternetSetOption` SETTINGS_CHANGED then REFRESH, called
 * from PowerShell); WinHTTP (services, some CLIs) keeps its own machine setting, set with
 * `netsh winhttp set advproxy` (Windows 11 / Server 2022; needs an administrator).
 */
import type { CommandPlan, ProxyAdapter } from './types.js';
import { runOrThrow } from './types.js';

export const INTERNET_SETTINGS = 'HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings';
const AUTOCONFIG = 'AutoConfigURL';
const WINHTTP = 'winhttp-advproxy';

/** INTERNET_OPTION_SETTINGS_CHANGED (39) then INTERNET_OPTION_REFRESH (37): running WinINET clients re-read the settings. */
export const wininetRefresh: CommandPlan = {
  command: 'powershell.exe',
  args: [
    '-NoProfile',
    '-NonInteractive',
    '-Command',
    "$t = Add-Type -MemberDefinition '[DllImport(\"wininet.dll\")] public static extern bool InternetSetOption(IntPtr h, int o, IntPtr b, int l);' -Name WinInet -Namespace Outpost -PassThru; [void]$t::InternetSetOption([IntPtr]::Zero, 39, [IntPtr]::Zero, 0); [void]$t::InternetSetOption([IntPtr]::Zero, 37, [IntPtr]::Zero, 0)",
  ],
};

/** The `AutoConfigURL` value in `reg query` output, or null. */
export function parseRegQuery(stdout: string): string | null {
  const m = new RegExp(`^\\s*${AUTOCONFIG}\\s+REG_SZ\\s+(.*)$`, 'm').exec(stdout);
  return m?.[1]?.trim() || null;
}

/** The JSON settings block `netsh winhttp show advproxy` prints, or null when it printed none. */
export function parseAdvProxy(stdout: string): string | null {
  const start = stdout.indexOf('{');
  const end = stdout.lastIndexOf('}');
  if (start < 0 || end < start) return null;
  const text = stdout.slice(start, end + 1);
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    return null;
  }
}

const setUrl = (url: string): CommandPlan => ({ command: 'reg', args: ['add', INTERNET_SETTINGS, '/v', AUTOCONFIG, '/t', 'REG_SZ', '/d', url, '/f'] });
const deleteUrl: CommandPlan = { command: 'reg', args: ['delete', INTERNET_SETTINGS, '/v', AUTOCONFIG, '/f'] };
const advproxy = (settingsJson: string): CommandPlan => ({ command: 'netsh', args: ['winhttp', 'set', 'advproxy', 'setting-scope=machine', `settings=${settingsJson}`] });

/** The Windows adapter. */
export const windowsProxy: ProxyAdapter = {
  id: 'windows',
  description: 'Windows WinINET (HKCU Internet Settings AutoConfigURL) and WinHTTP (netsh winhttp advproxy)',
  async read(run) {
    // reg query exits 1 when the value does not exist: that is "unset", not an error.
    const url = parseRegQuery((await run({ command: 'reg', args: ['query', INTERNET_SETTINGS, '/v', AUTOCONFIG] })).stdout);
    const winhttp = parseAdvProxy((await runOrThrow(run, { command: 'netsh', args: ['winhttp', 'show', 'advproxy'] })).stdout);
    return { [AUTOCONFIG]: url, [WINHTTP]: winhttp };
  },
  applyPlans: (pacUrl) => [setUrl(pacUrl), wininetRefresh, advproxy(JSON.stringify({ AutoconfigUrl: pacUrl }))],
  restorePlans: (previous) => [
    previous[AUTOCONFIG] === null || previous[AUTOCONFIG] === undefined ? deleteUrl : setUrl(previous[AUTOCONFIG]),
    wininetRefresh,
    advproxy(previous[WINHTTP] ?? '{}'),
  ],
  uses: (current, pacUrl) => current[AUTOCONFIG] === pacUrl,
  describe: (current) => (current[AUTOCONFIG] ? `WinINET PAC ${current[AUTOCONFIG]}` : 'WinINET: no PAC') + `; WinHTTP ${current[WINHTTP] ?? 'direct'}`,
};
