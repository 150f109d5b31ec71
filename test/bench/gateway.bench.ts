/**
 * The central gateway under its fleet (issue 12.6): the gateway runs as `outpost gateway` in its own
 * process; this process plays 200 agents on real WebSockets. Measured: from an admin's `PUT` to each
 * agent holding the policy checked (Ed25519 signature verified, document validated), p50/p99/max over
 * rounds; the same across two replicas on one PostgreSQL database (admin on A, agents on B); audit
 * upload rate (records stored and acknowledged per second from one agent sending full batches); and
 * the gateway's resident memory idle and with 200 agents connected. Bounded in count and time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { verifyPolicySignature } from '../../shared/protocol/policy-signature.js';
import { policy as policySchema } from '../../shared/schema/policy.js';
import { PROTOCOL_V, type PolicyMessage } from '../../shared/schema/protocol.js';
import { REPO_ROOT } from '../support/repo.js';
import { SimAgent, enrollDevice } from '../support/gateway.js';
import { makeChain } from '../support/audit-entries.js';
import { startTestPostgres } from '../support/postgres.js';
import type { BenchSection } from './types.js';

const CLI = path.join(REPO_ROOT, 'dist/agent/cli/main.js');
const AGENTS = 200;
const ROUNDS = 15;
const REPLICA_AGENTS = 50;
const ADMIN_TOKEN = 'bench-admin-token-0123456789';

interface GatewayProcess {
  readonly url: string;
  readonly child: ChildProcess;
  admin(method: string, pathname: string, body?: unknown): Promise<any>;
  rssMiB(): Promise<number>;
  stop(): Promise<void>;
}

async function startGatewayProcess(store: object = { kind: 'sqlite', path: 'gateway.db' }, home?: string): Promise<GatewayProcess> {
  const dir = home ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-bench-gw-')));
  const config = path.join(dir, `gateway-${crypto.randomUUID()}.json`);
  await fs.writeFile(config, JSON.stringify({ home: dir, listen: { host: '127.0.0.1', port: 0 }, adminToken: ADMIN_TOKEN, store, log: { level: 'warn' } }));
  const child = spawn(process.execPath, [CLI, 'gateway', '--config', config], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    readline.createInterface({ input: child.stdout! }).on('line', (l) => {
      const m = /listening on (http:\/\/\S+)/.exec(l);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`gateway exited (${code})`)));
  });
  return {
    url,
    child,
    admin: async (method, pathname, body) => {
      const res = await fetch(`${url}${pathname}`, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      return res.json();
    },
    rssMiB: async () => {
      const status = await fs.readFile(`/proc/${child.pid}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
    },
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      if (home === undefined) await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/** Enrolls and connects `count` agents to `url` (tokens made through `admin`), a few at a time. */
async function connectAgents(admin: GatewayProcess, url: string, count: number): Promise<SimAgent[]> {
  const agents: SimAgent[] = [];
  for (let i = 0; i < count; i += 20) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(20, count - i) }, async () => {
        const token = (await admin.admin('POST', '/admin/v1/enrollment-tokens', {})) as { token: string };
        return SimAgent.connect(url, await enrollDevice(admin.url, token.token), { policyVersion: 1_000_000 });
      }),
    );
    agents.push(...batch);
  }
  return agents;
}

function pct(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
}

/**
 * `ROUNDS` policy changes put through `admin`; for each, the time until every agent verified and
 * validated it (what the agent does before applying it).
 */
async function pushRounds(admin: GatewayProcess, agents: readonly SimAgent[], key: crypto.KeyObject): Promise<number[]> {
  const samples: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = performance.now();
    const arrivals = agents.map(async (a) => {
      const m: PolicyMessage = await a.until('policy', (p) => (p.document as { name?: string }).name === `bench-${round}`);
      if (!verifyPolicySignature(key, m) || !policySchema.safeParse(m.document).success) throw new Error('bad policy');
      samples.push(performance.now() - start);
    });
    await admin.admin('PUT', '/admin/v1/policy', { version: 1, name: `bench-${round}`, failMode: round % 2 === 0 ? 'open' : 'closed' });
    await Promise.all(arrivals);
  }
  return samples.sort((a, b) => a - b);
}

async function publicKey(home: string): Promise<crypto.KeyObject> {
  return crypto.createPublicKey(crypto.createPrivateKey(await fs.readFile(path.join(home, 'policy-signing.key'), 'utf8')));
}

async function uploadRate(gw: GatewayProcess): Promise<number> {
  const [agent] = await connectAgents(gw, gw.url, 1);
  const total = 20_000;
  const chain = makeChain(total);
  const start = performance.now();
  for (let i = 0; i < total; i += 500) {
    agent!.send({ v: PROTOCOL_V, type: 'audit.batch', records: chain.slice(i, i + 500) });
    await agent!.until('audit.ack', (m) => m.seq === Math.min(i + 500, total));
  }
  const perSec = total / ((performance.now() - start) / 1000);
  agent!.close();
  return perSec;
}

export async function run(): Promise<BenchSection[]> {
  const home = await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-bench-gw-'));
  const gw = await startGatewayProcess(undefined, home);
  const rows: Array<Record<string, string | number>> = [];
  let idle: number | undefined;
  let connected: number | undefined;
  let uploads: number | undefined;
  try {
    await gw.admin('PUT', '/admin/v1/policy', { version: 1, name: 'start' });
    idle = await gw.rssMiB();
    const agents = await connectAgents(gw, gw.url, AGENTS);
    connected = await gw.rssMiB();
    const s = await pushRounds(gw, agents, await publicKey(home));
    rows.push({ measured: `policy change → ${AGENTS} agents hold it verified (SQLite, one gateway)`, samples: s.length, p50_ms: pct(s, 0.5), p99_ms: pct(s, 0.99), max_ms: s.at(-1) ?? 0 });
    for (const a of agents) a.close();
    uploads = await uploadRate(gw);
  } finally {
    await gw.stop();
    await fs.rm(home, { recursive: true, force: true });
  }

  const pgServer = await startTestPostgres();
  try {
    const url = await pgServer.createDatabase();
    const homeA = await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-bench-gw-'));
    const store = { kind: 'postgres', url };
    const a = await startGatewayProcess(store, homeA);
    // Replicas share the signing key (agents pin one): B's home gets A's key before it starts.
    const homeB = await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-bench-gw-'));
    await fs.copyFile(path.join(homeA, 'policy-signing.key'), path.join(homeB, 'policy-signing.key'));
    const b = await startGatewayProcess(store, homeB);
    try {
      await a.admin('PUT', '/admin/v1/policy', { version: 1, name: 'start' });
      const agents = await connectAgents(a, b.url, REPLICA_AGENTS);
      const s = await pushRounds(a, agents, await publicKey(homeA));
      rows.push({ measured: `policy change on replica A → ${REPLICA_AGENTS} agents on replica B (PostgreSQL LISTEN/NOTIFY)`, samples: s.length, p50_ms: pct(s, 0.5), p99_ms: pct(s, 0.99), max_ms: s.at(-1) ?? 0 });
      for (const x of agents) x.close();
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await Promise.all([homeA, homeB].map((h) => fs.rm(h, { recursive: true, force: true })));
    }
  } finally {
    await pgServer.stop();
  }

  const p99 = rows[0]?.p99_ms as number;
  return [
    {
      title: 'Gateway: policy push to the fleet (outpost gateway in its own process, agents on real WebSockets)',
      rows,
      notes: [`goal: every connected agent enforces an admin's change within 1 s p99 with ${AGENTS} agents: p99 ${p99.toFixed(1)} ms, ${p99 <= 1000 ? 'met' : 'NOT met'}`],
    },
    {
      title: 'Gateway: audit upload and memory',
      rows: [
        { measured: 'audit records stored and acknowledged per second (one agent, batches of 500, SQLite)', value: Math.round(uploads ?? 0) },
        { measured: 'gateway RSS MiB, idle', value: idle ?? 0 },
        { measured: `gateway RSS MiB, ${AGENTS} agents connected`, value: connected ?? 0 },
      ],
    },
  ];
}
