/**
 * The managed configuration (issue 14.4): it overrides the user's config field by field, the user
 * cannot weaken it (their file, `--config`, `OUTPOST_HOME`, pointing elsewhere while the OS's file
 * exists), and a running agent follows a change to it (restarting itself in process) while refusing
 * an invalid one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { loadAgentConfig } from '../../../agent/config/load.js';
import { managedConfigPath, overlay } from '../../../agent/config/managed.js';
import { REPO_ROOT } from '../../support/repo.js';
import { listenOnFreePort, closeServer } from '../../support/ports.js';

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-managed-'));
  dirs.push(dir);
  return dir;
}
async function freePort(): Promise<number> {
  const server = net.createServer();
  const port = await listenOnFreePort(server);
  await closeServer(server);
  return port;
}
const write = (file: string, doc: object): Promise<void> => fs.writeFile(file, JSON.stringify(doc));

describe('managed configuration', () => {
  it('wins field by field over the user file and OUTPOST_HOME; fields it leaves out stay the user\'s', async () => {
    const dir = await tempDir();
    await fs.mkdir(path.join(dir, 'user'));
    await fs.mkdir(path.join(dir, 'it'));
    const userFile = path.join(dir, 'user', 'agent.json');
    const managedFile = path.join(dir, 'it', 'config.json');
    await write(userFile, {
      home: 'my-home',
      ca: { keyStore: 'file', nameConstraints: false },
      gateway: { url: null },
      systemProxy: { watchdogSeconds: 0 },
      upstream: { resolve: { 'api.openai.com': '127.0.0.1:1', 'extra.example': '127.0.0.1:2' } },
      log: { level: 'debug' },
    });
    await write(managedFile, {
      home: 'managed-home',
      ca: { nameConstraints: true },
      gateway: { url: 'https://gateway.corp.example', enrollmentToken: 'enr_123' },
      systemProxy: { watchdogSeconds: 30 },
      upstream: { resolve: { 'api.openai.com': '10.0.0.1:443' } },
    });
    const c = await loadAgentConfig(userFile, { OUTPOST_HOME: path.join(dir, 'env-home') }, { managedFile });
    expect(c.home).toBe(path.join(dir, 'it', 'managed-home')); // relative to the managed file, OUTPOST_HOME ignored
    expect(c.ca).toMatchObject({ nameConstraints: true, keyStore: 'file' }); // keyStore: not managed, the user's
    expect(c.gateway).toEqual({ url: 'https://gateway.corp.example', enrollmentToken: 'enr_123', caFile: null, spkiSha256: null });
    expect(c.systemProxy.watchdogSeconds).toBe(30);
    expect(c.upstream.resolve).toEqual({ 'api.openai.com': '10.0.0.1:443' }); // a map is one value: the user's extra host does not slip in
    expect(c.log.level).toBe('debug');
    expect(c.managed).toEqual({ file: managedFile, fields: ['home', 'ca.nameConstraints', 'gateway.url', 'gateway.enrollmentToken', 'systemProxy.watchdogSeconds', 'upstream.resolve'] });
    // Without a managed home, OUTPOST_HOME still applies.
    await write(managedFile, { systemProxy: { watchdogSeconds: 30 } });
    expect((await loadAgentConfig(userFile, { OUTPOST_HOME: path.join(dir, 'env-home') }, { managedFile })).home).toBe(path.join(dir, 'env-home'));
  });

  it('refuses an invalid managed file with its name and the JSON path', async () => {
    const dir = await tempDir();
    const managedFile = path.join(dir, 'config.json');
    await write(managedFile, { proxy: { port: 'eighty' } });
    await expect(loadAgentConfig(null, {}, { managedFile })).rejects.toThrow(new RegExp(`managed config ${managedFile}[\\s\\S]*\\$\\.proxy\\.port`));
  });

  it('cannot be pointed elsewhere once the OS file exists; OUTPOST_MANAGED_CONFIG only stands in while there is none', async () => {
    const dir = await tempDir();
    const official = path.join(dir, 'etc-outpost-config.json');
    const paths = { linux: () => official };
    const env = { OUTPOST_MANAGED_CONFIG: path.join(dir, 'mine.json') };
    expect(await managedConfigPath('linux', env, paths)).toBe(path.join(dir, 'mine.json'));
    await write(official, {});
    expect(await managedConfigPath('linux', env, paths)).toBe(official);
    expect(overlay({ a: { b: 1, c: 2 } }, { a: { b: 3 } })).toEqual({ a: { b: 3, c: 2 } });
  });

  it('a running agent restarts itself on a changed managed file, and keeps running on an invalid one', async () => {
    const dir = await tempDir();
    const [first, second] = [await freePort(), await freePort()];
    const userFile = path.join(dir, 'agent.json');
    const managedFile = path.join(dir, 'managed.json');
    await write(userFile, { home: 'home', proxy: { port: 0 }, control: { port: 0 }, ca: { keyStore: 'file' }, log: { level: 'warn' } });
    await write(managedFile, { proxy: { port: first } });
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'dist/agent/cli/main.js'), 'start', '--config', userFile], {
      env: { ...process.env, OUTPOST_MANAGED_CONFIG: managedFile, OUTPOST_HOME: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const lines: string[] = [];
    const waiters: Array<() => void> = [];
    readline.createInterface({ input: child.stdout }).on('line', (l) => {
      lines.push(l);
      for (const w of waiters.splice(0)) w();
    });
    const seen = (re: RegExp): Promise<void> =>
      new Promise((resolve, reject) => {
        const check = (): void => (lines.some((l) => re.test(l)) ? resolve() : void waiters.push(check));
        child.once('exit', (code) => reject(new Error(`agent exited ${code}: ${stderr}`)));
        check();
      });
    await seen(new RegExp(`proxy\\s+http://127\\.0\\.0\\.1:${first}`));
    // Its own line, written after the addresses: it may arrive in a later chunk.
    await seen(new RegExp(`^managed by ${managedFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: proxy\\.port$`));
    await write(managedFile, { proxy: { port: second } });
    await seen(new RegExp(`proxy\\s+http://127\\.0\\.0\\.1:${second}`));
    const runtime = JSON.parse(await fs.readFile(path.join(dir, 'home', 'runtime.json'), 'utf8')) as { proxyUrl: string; controlUrl: string };
    expect(runtime.proxyUrl).toBe(`http://127.0.0.1:${second}`);
    // An invalid push is refused and logged; the agent keeps serving on the config in force.
    await write(managedFile, { proxy: { port: -1 } });
    await new Promise<void>((resolve) => {
      const check = (): void => (stderr.includes('the managed config was refused') ? resolve() : void setImmediate(() => child.stderr.once('data', check)));
      check();
    });
    const pac = await fetch(`${runtime.proxyUrl}/proxy.pac`);
    expect(pac.status).toBe(200);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }, 60_000);
});
