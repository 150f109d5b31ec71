/**
 * The system proxy's command plans per OS (issue 14.2). macOS, Windows and KDE cannot run here: their
 * adapters are checked against the exact commands they build and their tools' real output formats,
 * and against a scripted run (enable, drift, enforce, disable) that keeps the OS state in a map.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gnomeProxy, gvariantString, parseGvariantString } from '../../../agent/system/proxy/gnome.js';
import { kdeProxy, kdeReparse } from '../../../agent/system/proxy/kde.js';
import { macosProxy, parseAutoProxy, parseServices } from '../../../agent/system/proxy/macos.js';
import { INTERNET_SETTINGS, parseAdvProxy, parseRegQuery, windowsProxy, wininetRefresh } from '../../../agent/system/proxy/windows.js';
import { detectProxyAdapter, SystemProxy } from '../../../agent/system/proxy/system-proxy.js';
import type { CommandPlan, PlanRunner } from '../../../agent/system/proxy/types.js';

const PAC = 'http://127.0.0.1:8787/proxy.pac';
const line = (p: CommandPlan): string => [p.command, ...p.args].join(' | ');

/** A fake macOS: networksetup reads and writes a map, as the real one would print it. */
function fakeMac(services: Record<string, { url: string | null; enabled: boolean }>, disabled: string[] = []): { run: PlanRunner; log: string[]; services: typeof services } {
  const log: string[] = [];
  const run: PlanRunner = async (plan) => {
    log.push(line(plan));
    const [verb, svc, value] = plan.args;
    if (verb === '-listallnetworkservices') {
      return { code: 0, stderr: '', stdout: `An asterisk (*) denotes that a network service is disabled.\n${Object.keys(services).join('\n')}\n${disabled.map((d) => `*${d}`).join('\n')}\n` };
    }
    const s = services[svc as string]!;
    if (verb === '-getautoproxyurl') return { code: 0, stderr: '', stdout: `URL: ${s.url ?? '(null)'}\nEnabled: ${s.enabled ? 'Yes' : 'No'}\n` };
    if (verb === '-setautoproxyurl') Object.assign(s, { url: value, enabled: true });
    if (verb === '-setautoproxystate') s.enabled = value === 'on';
    return { code: 0, stderr: '', stdout: '' };
  };
  return { run, log, services };
}

const homes: string[] = [];
afterAll(async () => {
  for (const h of homes) await fs.rm(h, { recursive: true, force: true });
});
async function home(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-proxy-unit-'));
  homes.push(dir);
  return dir;
}

describe('system proxy adapters', () => {
  it('picks macOS, Windows, KDE by XDG_CURRENT_DESKTOP, else GNOME on Linux, and none elsewhere', () => {
    expect(detectProxyAdapter('darwin')?.id).toBe('macos');
    expect(detectProxyAdapter('win32')?.id).toBe('windows');
    expect(detectProxyAdapter('linux', { XDG_CURRENT_DESKTOP: 'KDE' })?.id).toBe('kde');
    expect(detectProxyAdapter('linux', { XDG_CURRENT_DESKTOP: 'ubuntu:GNOME' })?.id).toBe('gnome');
    expect(detectProxyAdapter('freebsd')).toBeNull();
  });

  it('GNOME: URL before mode (a reader never sees auto without our PAC), GVariant quoting both ways', () => {
    expect(gnomeProxy.applyPlans(PAC, {}).map(line)).toEqual([
      `gsettings | set | org.gnome.system.proxy | autoconfig-url | '${PAC}'`,
      "gsettings | set | org.gnome.system.proxy | mode | 'auto'",
    ]);
    expect(gnomeProxy.restorePlans({ mode: 'manual', 'autoconfig-url': '' }).map(line)).toEqual([
      "gsettings | set | org.gnome.system.proxy | autoconfig-url | ''",
      "gsettings | set | org.gnome.system.proxy | mode | 'manual'",
    ]);
    expect(parseGvariantString(gvariantString("it's a \\ test"))).toBe("it's a \\ test");
    expect(parseGvariantString(`"it's"\n`)).toBe("it's");
  });

  it('KDE: kwriteconfig5 for the script and ProxyType 2, deletes what was unset, then the KIO reparse signal', () => {
    expect(kdeProxy.applyPlans(PAC, {}).map(line)).toEqual([
      `kwriteconfig5 | --file | kioslaverc | --group | Proxy Settings | --key | Proxy Config Script | ${PAC}`,
      'kwriteconfig5 | --file | kioslaverc | --group | Proxy Settings | --key | ProxyType | 2',
      line(kdeReparse),
    ]);
    expect(kdeProxy.restorePlans({ ProxyType: null, 'Proxy Config Script': null }).map(line)).toEqual([
      'kwriteconfig5 | --file | kioslaverc | --group | Proxy Settings | --key | Proxy Config Script | --delete',
      'kwriteconfig5 | --file | kioslaverc | --group | Proxy Settings | --key | ProxyType | --delete',
      line(kdeReparse),
    ]);
    expect(kdeProxy.uses({ ProxyType: '2', 'Proxy Config Script': PAC }, PAC)).toBe(true);
  });

  it('macOS: parses networksetup output (disabled services skipped) and sets every enabled service', () => {
    expect(parseServices('An asterisk (*) denotes that a network service is disabled.\nWi-Fi\n*Bluetooth PAN\nThunderbolt Bridge\n')).toEqual(['Wi-Fi', 'Thunderbolt Bridge']);
    expect(parseAutoProxy('URL: (null)\nEnabled: No\n')).toEqual({ url: null, enabled: false });
    expect(parseAutoProxy('URL: http://wpad/proxy.pac\nEnabled: Yes\n')).toEqual({ url: 'http://wpad/proxy.pac', enabled: true });
    const current = { 'Wi-Fi\turl': null, 'Wi-Fi\tenabled': 'off', 'USB 10/100/1000 LAN\turl': 'http://wpad/p.pac', 'USB 10/100/1000 LAN\tenabled': 'on' };
    expect(macosProxy.applyPlans(PAC, current).map(line)).toEqual([
      `networksetup | -setautoproxyurl | Wi-Fi | ${PAC}`,
      'networksetup | -setautoproxystate | Wi-Fi | on',
      `networksetup | -setautoproxyurl | USB 10/100/1000 LAN | ${PAC}`,
      'networksetup | -setautoproxystate | USB 10/100/1000 LAN | on',
    ]);
    expect(macosProxy.restorePlans(current).map(line)).toEqual([
      'networksetup | -setautoproxystate | Wi-Fi | off',
      'networksetup | -setautoproxyurl | USB 10/100/1000 LAN | http://wpad/p.pac',
      'networksetup | -setautoproxystate | USB 10/100/1000 LAN | on',
    ]);
  });

  it('macOS end to end on a scripted networksetup: enable, something else changes it, the watchdog puts ours back, disable restores', async () => {
    const mac = fakeMac({ 'Wi-Fi': { url: null, enabled: false }, Ethernet: { url: 'http://wpad/p.pac', enabled: true } }, ['Bluetooth PAN']);
    const sp = new SystemProxy(macosProxy, await home(), mac.run);
    expect((await sp.enable(PAC)).applied).toBe(true);
    mac.services['Wi-Fi']!.enabled = false;
    expect(await sp.enforce(PAC)).toBe(true);
    expect(mac.services['Wi-Fi']).toEqual({ url: PAC, enabled: true });
    expect(await sp.enforce(PAC)).toBe(false);
    expect(await sp.disable()).toBe(true);
    expect(mac.services.Ethernet).toEqual({ url: 'http://wpad/p.pac', enabled: true });
    expect(mac.services['Wi-Fi']?.enabled).toBe(false);
    expect(mac.log.some((l) => l.includes('Bluetooth'))).toBe(false);
  });

  it('Windows: AutoConfigURL in HKCU, the WinINET refresh through InternetSetOption 39 and 37, WinHTTP advproxy', () => {
    expect(windowsProxy.applyPlans(PAC, {}).map(line)).toEqual([
      `reg | add | ${INTERNET_SETTINGS} | /v | AutoConfigURL | /t | REG_SZ | /d | ${PAC} | /f`,
      line(wininetRefresh),
      `netsh | winhttp | set | advproxy | setting-scope=machine | settings={"AutoconfigUrl":"${PAC}"}`,
    ]);
    expect(wininetRefresh.args.at(-1)).toMatch(/InternetSetOption\(\[IntPtr\]::Zero, 39,.*InternetSetOption\(\[IntPtr\]::Zero, 37,/);
    expect(windowsProxy.restorePlans({ AutoConfigURL: null, 'winhttp-advproxy': '{"Proxy":"corp:8080"}' }).map(line)).toEqual([
      `reg | delete | ${INTERNET_SETTINGS} | /v | AutoConfigURL | /f`,
      line(wininetRefresh),
      'netsh | winhttp | set | advproxy | setting-scope=machine | settings={"Proxy":"corp:8080"}',
    ]);
    const query = `\r\nHKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\r\n    AutoConfigURL    REG_SZ    http://wpad.corp/proxy.pac\r\n\r\n`;
    expect(parseRegQuery(query)).toBe('http://wpad.corp/proxy.pac');
    expect(parseRegQuery('ERROR: The system was unable to find the specified registry key or value.')).toBeNull();
    expect(parseAdvProxy('Current WinHTTP advanced proxy settings:\r\n\r\n{\r\n    "ProxyIsEnabled": false,\r\n    "AutoconfigUrl": ""\r\n}\r\n')).toBe('{"ProxyIsEnabled":false,"AutoconfigUrl":""}');
  });

  it('keeps the first saved settings when enabled twice, and refuses a state file it cannot read', async () => {
    const mac = fakeMac({ 'Wi-Fi': { url: 'http://old/p.pac', enabled: true } });
    const dir = await home();
    const sp = new SystemProxy(macosProxy, dir, mac.run);
    await sp.enable(PAC);
    await sp.enable(PAC);
    expect((await sp.state())?.previous).toEqual({ 'Wi-Fi\turl': 'http://old/p.pac', 'Wi-Fi\tenabled': 'on' });
    await fs.writeFile(path.join(dir, 'system-proxy.json'), '{"adapter":1}');
    await expect(sp.disable()).rejects.toMatchObject({ code: 'SYSTEM_PROXY_STATE' });
  });
});
