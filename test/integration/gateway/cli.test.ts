import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, exampleFile } from '../../support/repo.js';
import { runOutpost } from '../../support/cli.js';

const CLI = path.join(REPO_ROOT, 'dist/agent/cli/main.js');
let dir: string;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-gw-cli-'));
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

describe('outpost gateway', () => {
  it('runs from the published config format, serves the admin API with the token it made, and stops on SIGTERM', async () => {
    const example = JSON.parse(await fs.readFile(exampleFile('gateway.json'), 'utf8')) as Record<string, unknown>;
    const config = path.join(dir, 'gateway.json');
    await fs.writeFile(config, JSON.stringify({ ...example, home: 'home', listen: { host: '127.0.0.1', port: 0 }, log: { level: 'warn' } }));
    const child = spawn(process.execPath, [CLI, 'gateway', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: string[] = [];
    const url = await new Promise<string>((resolve, reject) => {
      readline.createInterface({ input: child.stdout }).on('line', (l) => {
        out.push(l);
        const m = /listening on (http:\/\/\S+)/.exec(l);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`gateway exited early (${code}): ${out.join('\n')}`)));
    });
    const token = (await fs.readFile(path.join(dir, 'home', 'admin.token'), 'utf8')).trim();
    expect(out.join('\n')).not.toContain(token);
    const res = await fetch(`${url}/admin/v1/devices`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ devices: [] });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('names the bad field of an invalid config and exits 1', async () => {
    const config = path.join(dir, 'bad.json');
    await fs.writeFile(config, JSON.stringify({ listen: { port: 'eighty' }, store: { kind: 'mysql' } }));
    const r = await runOutpost(['gateway', '--config', config]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('$.listen.port');
    expect(r.stderr).toContain('$.store.kind');
  });
});
