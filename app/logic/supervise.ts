/**
 * Pure: what the tray does when the agent it started exits on its own. It restarts it after a
 * growing wait (1 s, 2 s, 4 s … up to 30 s), and gives up after 5 exits within 10 minutes, telling
 * the user in words (a crash loop would otherwise spin forever with nothing protected).
 */

/** What to do after an unexpected exit. */
export type SupervisionStep = { readonly action: 'restart'; readonly delayMs: number } | { readonly action: 'give-up'; readonly message: string };

/** The limits (defaults as above). */
export interface SupervisionLimits {
  readonly maxExits: number;
  readonly windowMs: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_LIMITS: SupervisionLimits = { maxExits: 5, windowMs: 10 * 60_000, baseDelayMs: 1000, maxDelayMs: 30_000 };

/** `exits`: the times (ms) of every unexpected exit so far, the latest last. */
export function afterExit(exits: readonly number[], now: number, limits: SupervisionLimits = DEFAULT_LIMITS): SupervisionStep {
  const recent = exits.filter((t) => now - t < limits.windowMs).length;
  if (recent >= limits.maxExits) {
    return { action: 'give-up', message: `Outpost stopped ${recent} times in ${Math.round(limits.windowMs / 60_000)} minutes and was not started again. Your AI traffic is not being checked. Open Outpost and run a check-up, or contact your IT team.` };
  }
  return { action: 'restart', delayMs: Math.min(limits.maxDelayMs, limits.baseDelayMs * 2 ** Math.max(0, recent - 1)) };
}
