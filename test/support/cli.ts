/** Runs the built CLI (`dist/agent/cli/main.js`, built by `npm test`'s pretest) as a user would. */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import readline from 'node:readline';
import { REPO_ROOT } from './repo.js';

const CLI = path.join(REPO_ROOT, 'dist/agent/cli/main.js');

/** What a CLI run gave: its exit code and output, whatever the code. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `outpost …args` with `env` added to this process's environment and `input` on stdin. */
export function runOutpost(args: readonly string[], env: NodeJS.ProcessEnv = {}, input = ''): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input);
  });
}

/**
 * Writes an agent config for `startOutpost` into `dir`: `policy` as `policy.json`, home `dir/home`,
 * every port 0, file keys, the upstream mapped by `resolve` and trusted through `caFile`, warn logs.
 * Returns the config file.
 */
export async function writeAgentConfig(dir: string, options: { readonly policy: object; readonly resolve: Readonly<Record<string, string>>; readonly caFile: string }): Promise<string> {
  const file = path.join(dir, 'agent.json');
  await fs.writeFile(path.join(dir, 'policy.json'), JSON.stringify(options.policy));
  await fs.writeFile(
    file,
    JSON.stringify({
      home: 'home',
      policyFile: 'policy.json',
      proxy: { port: 0 },
      control: { port: 0 },
      ca: { keyStore: 'file' },
      upstream: { resolve: options.resolve, caFile: options.caFile },
      log: { level: 'warn' },
    }),
  );
  return file;
}

/** A running `outpost start`. */
export interface RunningAgent {
  readonly child: ChildProcess;
  readonly proxyUrl: string;
  readonly caPem: string;
  /** The control API's address (`runtime.json`). */
  readonly controlUrl: string;
  /** What it wrote on stderr so far (its log), when started with `captureStderr`. */
  stderr(): string;
}

/** How `startOutpost` runs the agent. */
export interface StartOutpostOptions {
  /** Added to the child's environment (e.g. `NODE_OPTIONS`). */
  readonly env?: NodeJS.ProcessEnv;
  /** Keep stderr for `stderr()` instead of passing it through. */
  readonly captureStderr?: boolean;
  /** Run as this user and group (a test as root running the agent as an ordinary user). */
  readonly user?: { readonly uid: number; readonly gid: number };
  /** A command the agent runs under, e.g. `['ip', 'netns', 'exec', NS]` (it must exec, keeping the pid). */
  readonly prefix?: readonly string[];
}

/**
 * Runs `outpost start --config FILE` (its `home` must be `<folder of FILE>/home`) until it prints
 * where its store is (its last address line), then reads its runtime file. `OUTPOST_HOME` is not
 * passed on: the config's `home` decides.
 */
export async function startOutpost(configFile: string, options: StartOutpostOptions = {}): Promise<RunningAgent> {
  const env = { ...process.env, ...options.env };
  delete env.OUTPOST_HOME;
  const argv = [...(options.prefix ?? []), process.execPath, CLI, 'start', '--config', configFile];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', options.captureStderr === true ? 'pipe' : 'inherit'], env, ...options.user });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = readline.createInterface({ input: child.stdout! });
  const out: string[] = [];
  await new Promise<void>((resolve, reject) => {
    lines.on('line', (l) => {
      out.push(l);
      if (l.trimStart().startsWith('audit')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`outpost start exited early (${code}): ${out.join('\n')}`)));
  });
  const runtime = JSON.parse(await fs.readFile(path.join(path.dirname(configFile), 'home', 'runtime.json'), 'utf8')) as { proxyUrl: string; controlUrl: string; caFile: string };
  return { child, proxyUrl: runtime.proxyUrl, controlUrl: runtime.controlUrl, caPem: await fs.readFile(runtime.caFile, 'utf8'), stderr: () => stderr };
}
