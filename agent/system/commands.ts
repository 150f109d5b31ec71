/**
 * Running the operating system's tools (trust stores, system proxy settings, app inventory): each
 * command built as plain data, so tests check the plan, and run without a shell.
 */
import { execFile } from 'node:child_process';
import { OutpostError } from '../../shared/errors.js';

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

/** A command that could not start at all (missing program, no permission to execute it). */
export class CommandError extends OutpostError<'SYSTEM_COMMAND_NOT_RUN'> {}

/** Runs `plan`; resolves with its exit code (non-zero does not reject: callers decide). */
export function runPlan(plan: CommandPlan, env?: NodeJS.ProcessEnv): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    execFile(plan.command, [...plan.args], { env: env ?? process.env, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') {
        reject(new CommandError('SYSTEM_COMMAND_NOT_RUN', `cannot run ${plan.command}: ${err.message}`, { cause: err }));
        return;
      }
      resolve({ code: err ? (err.code as number) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}
