/** Runs the built CLI (`dist/agent/cli/main.js`, built by `npm test`'s pretest) as a user would. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from './handbook.js';

/** What a CLI run gave: its exit code and output, whatever the code. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `outpost …args` with `env` added to this process's environment and `input` on stdin. */
export function runOutpost(args: readonly string[], env: NodeJS.ProcessEnv = {}, input = ''): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'dist/agent/cli/main.js'), ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input);
  });
}
