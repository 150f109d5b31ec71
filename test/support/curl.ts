/**
 * curl as a child process: the client most command-line tools resemble. It reaches the server
 * through `--proxy` or with `--connect-to` mapping real hostnames to a fake provider, and trusts
 * only the given CA (`--cacert`).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClientRoute } from './clients.js';

/** One curl request. */
export interface CurlRequest extends ClientRoute {
  readonly url: string;
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** The request body, sent as is (`--data-binary`). */
  readonly body?: string;
  /** `-N`: no output buffering, as a streaming CLI would run it. */
  readonly stream?: boolean;
  /** `--http2` (ALPN offers h2, then http/1.1) instead of `--http1.1`. */
  readonly http2?: boolean;
  /** Give up after this many seconds (`--max-time`; default 20). */
  readonly maxTimeSeconds?: number;
}

/** What curl got. */
export interface CurlResult {
  /** The final response's status (0 when none arrived). */
  readonly status: number;
  /** The final response's protocol as curl's status line names it (`HTTP/1.1`, `HTTP/2`; '' when none arrived). */
  readonly version: string;
  /** The final response's headers, names lower-cased (the proxy's CONNECT answer is skipped). */
  readonly headers: Record<string, string>;
  readonly body: string;
  /** curl's exit code (0 ok; 35 TLS handshake failed; 56 receive failure; 60 untrusted certificate). */
  readonly exitCode: number;
  readonly stderr: string;
}

/** Parses a `-D` header dump, keeping the last response block (after CONNECT and 1xx blocks). */
function lastHeaderBlock(dump: string): { status: number; version: string; headers: Record<string, string> } {
  const blocks = dump.split(/\r?\n\r?\n/).filter((block) => block.startsWith('HTTP/'));
  const last = blocks[blocks.length - 1];
  if (!last) return { status: 0, version: '', headers: {} };
  const [statusLine = '', ...lines] = last.split(/\r?\n/);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1] ?? 0), version: statusLine.split(' ')[0] ?? '', headers };
}

/** Environment without proxy variables, so only `--proxy` decides the route. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env)) if (/^(https?|all|no)_proxy$/i.test(name)) delete env[name];
  return env;
}

/** Runs curl once and collects its answer. */
export async function curl(request: CurlRequest): Promise<CurlResult> {
  const dir = await mkdtemp(join(tmpdir(), 'outpost-curl-'));
  try {
    const headerFile = join(dir, 'headers');
    const args = ['--silent', '--show-error', request.http2 === true ? '--http2' : '--http1.1', '-D', headerFile, '--max-time', String(request.maxTimeSeconds ?? 20)];
    if (request.ca !== undefined) {
      const caFile = join(dir, 'ca.pem');
      await writeFile(caFile, typeof request.ca === 'string' ? request.ca : request.ca.join('\n'));
      args.push('--cacert', caFile);
    }
    if (request.proxyUrl) args.push('--proxy', request.proxyUrl);
    else {
      for (const [host, address] of Object.entries(request.resolve ?? {})) args.push('--connect-to', `${host}:443:${address}`);
    }
    if (request.stream) args.push('-N');
    args.push('-X', request.method ?? (request.body !== undefined ? 'POST' : 'GET'));
    for (const [name, value] of Object.entries(request.headers ?? {})) args.push('-H', `${name}: ${value}`);
    if (request.body !== undefined) args.push('--data-binary', '@-');
    args.push(request.url);

    const child = spawn('curl', args, { env: cleanEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.stdin.end(request.body ?? '');
    const exitCode = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code) => resolve(code ?? -1));
    });
    const dump = await readFile(headerFile, 'utf8').catch(() => '');
    return {
      ...lastHeaderBlock(dump),
      body: Buffer.concat(stdout).toString('utf8'),
      exitCode,
      stderr: Buffer.concat(stderr).toString('utf8'),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
