/**
 * A real PostgreSQL server for tests: Debian's `postgresql` binaries (/usr/lib/postgresql/N/bin,
 * installed by `npm run setup`), a cluster made by `initdb` in a temp folder and started by `pg_ctl`
 * on a loopback port, as a non-root user (PostgreSQL refuses to run as root: when the tests run as
 * root, the server runs as `postgres`, created if missing, through `runuser`). Trust authentication
 * on 127.0.0.1 only; fsync off (a test cluster, thrown away after).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

/** A running test cluster. */
export interface TestPostgres {
  /** `postgres://outpost@127.0.0.1:PORT/DB` for a new, empty database. */
  createDatabase(): Promise<string>;
  stop(): Promise<void>;
}

async function binDir(): Promise<string> {
  const root = '/usr/lib/postgresql';
  const versions = (await fs.readdir(root).catch(() => [] as string[])).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  if (versions.length === 0) throw new Error(`PostgreSQL is not installed (${root} is empty): run npm run setup (Debian package "postgresql")`);
  return path.join(root, versions[0]!, 'bin');
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Runs `file args` as the cluster's owner (`postgres` when we are root, else ourselves). */
async function asOwner(owner: string | null, file: string, args: readonly string[]): Promise<void> {
  if (owner === null) await run(file, [...args]);
  else await run('runuser', ['-u', owner, '--', file, ...args]);
}

/** Starts a throwaway cluster. */
export async function startTestPostgres(): Promise<TestPostgres> {
  const bin = await binDir();
  const owner = process.getuid?.() === 0 ? 'postgres' : null;
  if (owner !== null) {
    await run('id', [owner]).catch(() => run('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', owner]));
  }
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-pg-'));
  if (owner !== null) await run('chown', [owner, dir]);
  const data = path.join(dir, 'data');
  await asOwner(owner, path.join(bin, 'initdb'), ['-D', data, '-U', 'outpost', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const port = await freePort();
  const options = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`;
  await asOwner(owner, path.join(bin, 'pg_ctl'), ['-D', data, '-o', options, '-l', path.join(dir, 'server.log'), '-w', '-t', '60', 'start']);
  const base = `postgres://outpost@127.0.0.1:${port}`;
  let n = 0;
  return {
    createDatabase: async () => {
      const name = `outpost_${process.pid}_${++n}`;
      const client = new pg.Client({ connectionString: `${base}/postgres` });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return `${base}/${name}`;
    },
    stop: async () => {
      await asOwner(owner, path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}
