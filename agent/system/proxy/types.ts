/**
 * The system proxy (issue 14.2): each OS keeps its proxy settings somewhere else, so each has an
 * adapter that reads them, and builds as plain data the commands that point them at our PAC and
 * that put back what was there. Plans are unit-tested per OS; the runner executes them without a shell.
 */
import { z } from 'zod';
import type { CommandPlan, CommandResult } from '../commands.js';
import { OutpostError } from '../../../shared/errors.js';

export type { CommandPlan, CommandResult };

/** Runs one command plan (the real one, or a test's canned answers). */
export type PlanRunner = (plan: CommandPlan) => Promise<CommandResult>;

/** An OS's proxy settings as one flat record (key → value, null when unset), saved as JSON to restore later. */
export const proxySettings = z.record(z.string(), z.string().nullable());
export type ProxySettings = z.infer<typeof proxySettings>;

/** One system's proxy settings. */
export interface ProxyAdapter {
  /** `gnome`, `kde`, `macos`, `windows`. */
  readonly id: string;
  /** Which settings, in words. */
  readonly description: string;
  /** The settings now. */
  read(run: PlanRunner): Promise<ProxySettings>;
  /** The commands that make the system use `pacUrl` (given the settings now). */
  applyPlans(pacUrl: string, current: ProxySettings): CommandPlan[];
  /** The commands that put `previous` back exactly. */
  restorePlans(previous: ProxySettings): CommandPlan[];
  /** True when `current` sends traffic to `pacUrl`. */
  uses(current: ProxySettings, pacUrl: string): boolean;
  /** `current` in words for status. */
  describe(current: ProxySettings): string;
}

/** A proxy command that failed, with its output. */
export class SystemProxyError extends OutpostError<'SYSTEM_PROXY_COMMAND' | 'SYSTEM_PROXY_UNSUPPORTED' | 'SYSTEM_PROXY_STATE'> {
  constructor(code: 'SYSTEM_PROXY_COMMAND' | 'SYSTEM_PROXY_UNSUPPORTED' | 'SYSTEM_PROXY_STATE', message: string, options?: ErrorOptions) {
    super(code, message, options);
    this.name = 'SystemProxyError';
  }
}

/** Runs `plan` and rejects with its output when it exits non-zero. */
export async function runOrThrow(run: PlanRunner, plan: CommandPlan): Promise<CommandResult> {
  const result = await run(plan);
  if (result.code !== 0) {
    const output = `${result.stderr}${result.stdout}`.trim().split('\n').slice(-3).join(' / ');
    throw new SystemProxyError('SYSTEM_PROXY_COMMAND', `${plan.command} ${plan.args.join(' ')} failed (exit ${result.code}): ${output}`);
  }
  return result;
}
