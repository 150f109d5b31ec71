/**
 * The agent's side of the system proxy: a proxy Outpost enabled is applied again at start (it was
 * put back at the last clean stop), re-applied by a watchdog when something else changes it, and
 * put back on a clean stop so the system never points at a PAC nobody serves. Never fails the agent:
 * a failure is logged and the next tick tries again.
 */
import type { Logger } from '../../log.js';
import { detectProxyAdapter, SystemProxy } from './system-proxy.js';
import type { ProxyAdapter } from './types.js';

/** A running upkeep. */
export interface SystemProxyUpkeep {
  stop(): Promise<void>;
}

/** Starts the upkeep for `home` with the agent's `pacUrl`; `watchdogSeconds` 0 turns the watchdog off. */
export async function startSystemProxyUpkeep(options: {
  readonly home: string;
  readonly pacUrl: string;
  readonly watchdogSeconds: number;
  readonly log: Logger;
  readonly adapter?: ProxyAdapter | null;
  readonly proxy?: SystemProxy;
}): Promise<SystemProxyUpkeep> {
  const adapter = options.adapter === undefined ? detectProxyAdapter() : options.adapter;
  if (adapter === null && options.proxy === undefined) return { stop: async () => undefined };
  const proxy = options.proxy ?? new SystemProxy(adapter as ProxyAdapter, options.home);
  const { log, pacUrl } = options;
  // Reading the state file costs nothing; the OS settings are read only once Outpost enabled them.
  if ((await proxy.state().catch(() => null)) === null && options.watchdogSeconds === 0) return { stop: async () => undefined };
  try {
    if (await proxy.resume(pacUrl)) log.info({ pac: pacUrl }, 'system proxy applied again');
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'could not apply the system proxy');
  }
  let running: Promise<void> = Promise.resolve();
  const timer =
    options.watchdogSeconds > 0
      ? setInterval(() => {
          running = proxy.enforce(pacUrl).then(
            (changed) => {
              if (changed) log.warn({ pac: pacUrl }, 'the system proxy was changed by something else: ours is applied again');
            },
            (err: unknown) => log.warn({ err: (err as Error).message }, 'system proxy watchdog failed'),
          );
        }, options.watchdogSeconds * 1000)
      : null;
  timer?.unref();
  return {
    async stop() {
      if (timer !== null) clearInterval(timer);
      await running;
      try {
        if (await proxy.suspend()) log.info({}, 'system proxy settings put back');
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'could not put the system proxy settings back');
      }
    },
  };
}
