/**
 * The trust stores' commands (agent/system/commands.ts runs them): a failure is a
 * `CaError('CA_TRUST_COMMAND')`, which the CLI and the doctor report as a trust-store problem.
 */
import { CommandError, runPlan as runSystemPlan, type CommandPlan, type CommandResult } from '../../system/commands.js';
import { CaError } from '../errors.js';

/** Runs `plan`; resolves with its exit code (non-zero does not reject: callers decide). */
export async function runPlan(plan: CommandPlan, env?: NodeJS.ProcessEnv): Promise<CommandResult> {
  try {
    return await runSystemPlan(plan, env);
  } catch (err) {
    if (err instanceof CommandError) throw new CaError('CA_TRUST_COMMAND', err.message, { cause: err.cause });
    throw err;
  }
}

/** Runs `plan` and rejects with its output when it fails. */
export async function runChecked(plan: CommandPlan, env?: NodeJS.ProcessEnv): Promise<CommandResult> {
  const result = await runPlan(plan, env);
  if (result.code !== 0) {
    const output = `${result.stderr}${result.stdout}`.trim().split('\n').slice(-3).join(' / ');
    throw new CaError('CA_TRUST_COMMAND', `${plan.command} ${plan.args.join(' ')} failed (exit ${result.code}): ${output}`);
  }
  return result;
}
