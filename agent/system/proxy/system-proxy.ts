/**
 * Enabling, disabling and watching the system proxy. The settings found before the first enable
 * are saved in `<home>/system-proxy.json` (written before anything changes, so a crash halfway can
 * still be undone) and put back by `disable`, by the agent's clean stop (`suspend`) and by uninstall.
 * Enabling again while enabled keeps the first saved settings: the user's own are never lost.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { runPlan } from '../commands.js';
import { gnomeProxy } from './gnome.js';
import { kdeProxy } from './kde.js';
import { macosProxy } from './macos.js';
import { windowsProxy } from './windows.js';
import { proxySettings, runOrThrow, SystemProxyError, type PlanRunner, type ProxyAdapter, type ProxySettings } from './types.js';

/** The saved state: which adapter, our PAC, what was there before. */
export const systemProxyState = z.object({
  adapter: z.string(),
  pacUrl: z.string(),
  previous: proxySettings,
  enabledAt: z.string(),
  /** True after the agent stopped cleanly and put the previous settings back; its next start applies ours again. */
  suspended: z.boolean().default(false),
});
export type SystemProxyState = z.infer<typeof systemProxyState>;

const STATE_FILE = 'system-proxy.json';

/** Adapters by id (macOS and Windows by platform; on Linux the desktop decides). */
export const PROXY_ADAPTERS: Readonly<Record<string, ProxyAdapter>> = { gnome: gnomeProxy, kde: kdeProxy, macos: macosProxy, windows: windowsProxy };

/** The adapter for this machine, or null where no system proxy settings exist (a server, an unknown desktop). */
export function detectProxyAdapter(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): ProxyAdapter | null {
  if (platform === 'darwin') return macosProxy;
  if (platform === 'win32') return windowsProxy;
  if (platform !== 'linux') return null;
  const desktop = (env.XDG_CURRENT_DESKTOP ?? '').toUpperCase();
  if (desktop.includes('KDE')) return kdeProxy;
  // GNOME and its relatives, and any session whose apps read GSettings (Chromium does).
  return gnomeProxy;
}

/** What `status` reports. */
export interface SystemProxyStatus {
  readonly adapter: string;
  readonly description: string;
  readonly current: ProxySettings;
  /** `current` in words. */
  readonly detail: string;
  /** True when the system uses `pacUrl`. */
  readonly applied: boolean;
  /** The saved state; null when Outpost did not enable it. */
  readonly state: SystemProxyState | null;
}

/** The system proxy of one agent home. */
export class SystemProxy {
  private readonly file: string;

  constructor(
    readonly adapter: ProxyAdapter,
    home: string,
    private readonly run: PlanRunner = (plan) => runPlan(plan),
  ) {
    this.file = path.join(home, STATE_FILE);
  }

  /** The saved state, or null. A file that does not parse is an error (it holds the user's settings). */
  async state(): Promise<SystemProxyState | null> {
    let text: string;
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    const parsed = systemProxyState.safeParse(JSON.parse(text) as unknown);
    if (!parsed.success) throw new SystemProxyError('SYSTEM_PROXY_STATE', `${this.file} is not a saved proxy state (${parsed.error.issues[0]?.message ?? 'invalid'}): fix or remove it by hand`);
    return parsed.data;
  }

  private async save(state: SystemProxyState): Promise<void> {
    await fs.mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.${process.pid}.tmp`;
    await fs.writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
    await fs.rename(tmp, this.file);
  }

  /** Points the system at `pacUrl`, saving what was there unless an earlier enable already did. */
  async enable(pacUrl: string): Promise<SystemProxyStatus> {
    const current = await this.adapter.read(this.run);
    const saved = await this.state();
    const keep = saved !== null && saved.adapter === this.adapter.id && !saved.suspended;
    const previous = keep ? saved.previous : current;
    await this.save({ adapter: this.adapter.id, pacUrl, previous, enabledAt: new Date().toISOString(), suspended: false });
    for (const plan of this.adapter.applyPlans(pacUrl, current)) await runOrThrow(this.run, plan);
    return this.status(pacUrl);
  }

  /** Puts back the saved settings and forgets them; false when Outpost had not enabled it. */
  async disable(): Promise<boolean> {
    const saved = await this.state();
    if (saved === null) return false;
    if (!saved.suspended) await this.restore(saved.previous);
    await fs.rm(this.file, { force: true });
    return true;
  }

  /** The agent's clean stop: the saved settings go back, the intent stays for the next start. */
  async suspend(): Promise<boolean> {
    const saved = await this.state();
    if (saved === null || saved.suspended) return false;
    await this.restore(saved.previous);
    await this.save({ ...saved, suspended: true });
    return true;
  }

  /** The agent's start: a suspended enable is applied again (saving the settings found now). */
  async resume(pacUrl: string): Promise<boolean> {
    const saved = await this.state();
    if (saved === null || !saved.suspended) return false;
    await this.enable(pacUrl);
    return true;
  }

  /**
   * The watchdog's step: when Outpost enabled the proxy and something else changed it, ours goes back
   * (the user's previous settings stay saved). Resolves true when it re-applied.
   */
  async enforce(pacUrl: string): Promise<boolean> {
    const saved = await this.state();
    if (saved === null || saved.suspended) return false;
    const current = await this.adapter.read(this.run);
    if (this.adapter.uses(current, pacUrl)) return false;
    for (const plan of this.adapter.applyPlans(pacUrl, current)) await runOrThrow(this.run, plan);
    return true;
  }

  private async restore(previous: ProxySettings): Promise<void> {
    for (const plan of this.adapter.restorePlans(previous)) await runOrThrow(this.run, plan);
  }

  /** What the system uses now, against `pacUrl`. */
  async status(pacUrl: string): Promise<SystemProxyStatus> {
    const current = await this.adapter.read(this.run);
    return { adapter: this.adapter.id, description: this.adapter.description, current, detail: this.adapter.describe(current), applied: this.adapter.uses(current, pacUrl), state: await this.state() };
  }
}
