/**
 * GNOME (and desktops that read its settings: Cinnamon, Budgie, Unity; Chromium on Linux follows it):
 * `org.gnome.system.proxy` `mode` (none | manual | auto) and `autoconfig-url`, through `gsettings`.
 */
import type { CommandPlan, ProxyAdapter, ProxySettings } from './types.js';
import { runOrThrow } from './types.js';

const SCHEMA = 'org.gnome.system.proxy';

/** GVariant text for a string (what `gsettings set` parses): single quotes, backslash escapes. */
export function gvariantString(value: string): string {
  return `'${value.replace(/[\\']/g, '\\$&')}'`;
}

/** A GVariant string as `gsettings get` prints it (`'auto'`, or `"it's"` when it holds a single quote). */
export function parseGvariantString(text: string): string {
  const t = text.trim();
  const quote = t[0];
  if ((quote !== "'" && quote !== '"') || t.at(-1) !== quote) return t;
  return t.slice(1, -1).replace(/\\(.)/g, '$1');
}

const get = (key: string): CommandPlan => ({ command: 'gsettings', args: ['get', SCHEMA, key] });
const set = (key: string, value: string): CommandPlan => ({ command: 'gsettings', args: ['set', SCHEMA, key, gvariantString(value)] });

/** The GNOME adapter. */
export const gnomeProxy: ProxyAdapter = {
  id: 'gnome',
  description: `GNOME proxy settings (gsettings ${SCHEMA})`,
  async read(run) {
    const mode = parseGvariantString((await runOrThrow(run, get('mode'))).stdout);
    const url = parseGvariantString((await runOrThrow(run, get('autoconfig-url'))).stdout);
    return { mode, 'autoconfig-url': url };
  },
  // URL first: a reader that sees mode auto already finds our PAC.
  applyPlans: (pacUrl) => [set('autoconfig-url', pacUrl), set('mode', 'auto')],
  restorePlans: (previous: ProxySettings) => [set('autoconfig-url', previous['autoconfig-url'] ?? ''), set('mode', previous.mode ?? 'none')],
  uses: (current, pacUrl) => current.mode === 'auto' && current['autoconfig-url'] === pacUrl,
  describe: (current) => (current.mode === 'auto' ? `automatic, PAC ${current['autoconfig-url'] ?? ''}` : `mode ${current.mode ?? '?'}`),
};
