/**
 * `outpost proxy` on GNOME for real (issue 14.2): gsettings through dconf in a private D-Bus session
 * started by the test (its own XDG_CONFIG_HOME, so no real settings are touched). Enable saves and
 * replaces the user's settings, disable puts them back exactly, the agent's watchdog re-applies ours
 * when something else changes them, and a clean stop puts them back until the next start.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPlan } from '../../../agent/system/commands.js';
import { gnomeProxy } from '../../../agent/system/proxy/gnome.js';
import { SystemProxy } from '../../../agent/system/proxy/system-proxy.js';
import { startSystemProxyUpkeep } from '../../../agent/system/proxy/upkeep.js';
import { runOutpost } from '../../support/cli.js';
import { startDbusSession, type DbusSession } from '../../support/dbus-session.js';

const exec = promisify(execFile);
const SCHEMA = 'org.gnome.system.proxy';

async function have(cmd: string): Promise<boolean> {
  return exec('sh', ['-c', `command -v ${cmd}`]).then(() => true, () => false);
}
const canRun = process.platform === 'linux' && (await have('gsettings')) && (await have('dbus-daemon'));

describe.runIf(canRun)('outpost proxy on GNOME (gsettings in a private D-Bus session)', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let bus: DbusSession | undefined;
  let configFile: string;
  const PAC = 'http://127.0.0.1:18787/proxy.pac';

  const gget = async (key: string): Promise<string> => (await exec('gsettings', ['get', SCHEMA, key], { env })).stdout.trim();
  const gset = (key: string, value: string) => exec('gsettings', ['set', SCHEMA, key, value], { env });

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-gnome-'));
    bus = await startDbusSession(dir);
    env = { ...bus.env, HOME: dir };
    configFile = path.join(dir, 'agent.json');
    await fs.writeFile(configFile, JSON.stringify({ home: 'home', proxy: { port: 18787 }, ca: { keyStore: 'file' } }));
    // The user's own settings before Outpost: a manual proxy.
    await gset('mode', "'manual'");
    await gset('autoconfig-url', "'http://wpad.corp.example/old.pac'");
  });

  afterAll(async () => {
    bus?.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('enable points GNOME at the PAC, status says so, enable twice keeps the saved settings, disable restores them exactly', async () => {
    const enabled = await runOutpost(['proxy', 'enable', '--config', configFile], env);
    expect(enabled.stderr).toBe('');
    expect(enabled.code).toBe(0);
    expect(await gget('mode')).toBe("'auto'");
    expect(await gget('autoconfig-url')).toBe(`'${PAC}'`);
    const status = JSON.parse((await runOutpost(['proxy', 'status', '--json', '--config', configFile], env)).stdout) as { applied: boolean; state: { previous: Record<string, string> } };
    expect(status.applied).toBe(true);
    expect(status.state.previous).toEqual({ mode: 'manual', 'autoconfig-url': 'http://wpad.corp.example/old.pac' });
    expect((await runOutpost(['proxy', 'enable', '--config', configFile], env)).code).toBe(0);
    const doctor = JSON.parse((await runOutpost(['doctor', '--json', '--config', configFile], env)).stdout) as { checks: Array<{ id: string; outcome: string }> };
    expect(doctor.checks.find((c) => c.id === 'system-proxy')?.outcome).toBe('ok');
    const disabled = await runOutpost(['proxy', 'disable', '--config', configFile], env);
    expect(disabled.stdout).toContain('the previous proxy settings are back');
    expect(await gget('mode')).toBe("'manual'");
    expect(await gget('autoconfig-url')).toBe("'http://wpad.corp.example/old.pac'");
    expect((await runOutpost(['proxy', 'disable', '--config', configFile], env)).stdout).toContain('nothing to restore');
    const after = JSON.parse((await runOutpost(['doctor', '--json', '--config', configFile], env)).stdout) as { checks: Array<{ id: string; outcome: string; fix: string | null }> };
    expect(after.checks.find((c) => c.id === 'system-proxy')).toMatchObject({ outcome: 'warn', fix: `outpost proxy enable --config ${configFile}` });
  });

  it("the agent's upkeep: the watchdog re-applies ours after another program changes it; a clean stop restores the user's; the next start applies ours again", async () => {
    const home = path.join(dir, 'upkeep-home');
    const run = (plan: Parameters<typeof runPlan>[0]) => runPlan(plan, env);
    const sp = new SystemProxy(gnomeProxy, home, run);
    await sp.enable(PAC);
    const log = pino({ level: 'silent' });
    // Watchdog ticks are driven by hand here (enforce), the timer is covered by its interval config.
    const upkeep = await startSystemProxyUpkeep({ home, pacUrl: PAC, watchdogSeconds: 0, log, proxy: sp });
    await gset('mode', "'none'");
    expect(await sp.enforce(PAC)).toBe(true);
    expect(await gget('mode')).toBe("'auto'");
    await upkeep.stop();
    expect(await gget('mode')).toBe("'manual'");
    expect((await sp.state())?.suspended).toBe(true);
    const again = await startSystemProxyUpkeep({ home, pacUrl: PAC, watchdogSeconds: 0, log, proxy: sp });
    expect(await gget('mode')).toBe("'auto'");
    await again.stop();
    expect(await sp.disable()).toBe(true);
    expect(await gget('mode')).toBe("'manual'");
    expect(await gget('autoconfig-url')).toBe("'http://wpad.corp.example/old.pac'");
  });
});
