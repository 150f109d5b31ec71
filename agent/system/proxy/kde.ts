/**
 * KDE Plasma: `[Proxy Settings]` in `kioslaverc` (`ProxyType` 2 is a PAC, `Proxy Config Script` its
 * URL), written with `kwriteconfig5`, then the KIO reparse signal so running apps pick it up.
 */
import type { CommandPlan, ProxyAdapter } from './types.js';

const GROUP = 'Proxy Settings';
const TYPE = 'ProxyType';
const SCRIPT = 'Proxy Config Script';
/** kioslaverc `ProxyType` values (KDE's KProtocolManager::ProxyType). */
const PAC = '2';

const base = (key: string): string[] => ['--file', 'kioslaverc', '--group', GROUP, '--key', key];
const read = (key: string): CommandPlan => ({ command: 'kreadconfig5', args: base(key) });
const write = (key: string, value: string | null): CommandPlan =>
  value === null ? { command: 'kwriteconfig5', args: [...base(key), '--delete'] } : { command: 'kwriteconfig5', args: [...base(key), value] };
/** Tells running KIO applications to re-read their proxy settings. */
export const kdeReparse: CommandPlan = { command: 'dbus-send', args: ['--type=signal', '/KIO/Scheduler', 'org.kde.KIO.Scheduler.reparseSlaveConfiguration', 'string:'] };

/** The KDE adapter. */
export const kdeProxy: ProxyAdapter = {
  id: 'kde',
  description: 'KDE proxy settings (kioslaverc [Proxy Settings])',
  async read(run) {
    // kreadconfig prints an empty line for a key that is not set.
    const value = async (key: string): Promise<string | null> => {
      const out = (await run(read(key))).stdout.replace(/\n$/, '');
      return out === '' ? null : out;
    };
    return { [TYPE]: await value(TYPE), [SCRIPT]: await value(SCRIPT) };
  },
  applyPlans: (pacUrl) => [write(SCRIPT, pacUrl), write(TYPE, PAC), kdeReparse],
  restorePlans: (previous) => [write(SCRIPT, previous[SCRIPT] ?? null), write(TYPE, previous[TYPE] ?? null), kdeReparse],
  uses: (current, pacUrl) => current[TYPE] === PAC && current[SCRIPT] === pacUrl,
  describe: (current) => (current[TYPE] === PAC ? `PAC ${current[SCRIPT] ?? ''}` : `ProxyType ${current[TYPE] ?? 'unset (none)'}`),
};
