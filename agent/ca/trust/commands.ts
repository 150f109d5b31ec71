/** Commands the trust stores run: built as plain data (so tests check the plan) and run without a shell. */
import { execFile } from 'node:child_process';
import { CaError } from '../errors.js';

/** One command: program and arguments, never through a shell. */
export interface CommandPlan {
  readonly command: string;
  readonly args: readonly string[];
}

/** Output of a command that ran. */
export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `plan`; resolves with its exit code (non-zero does not reject: callers decide). */
export function runPlan(plan: CommandPlan, env?: NodeJS.ProcessEnv): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    execFile(plan.command, [...plan.args], { env: env ?? process.env, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') {
        reject(new CaError('CA_TRUST_COMMAND', `cannot run ${plan.command}: ${err.message}`, { cause: err }));
        return;
      }
      resolve({ code: err ? (err.code as number) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
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
