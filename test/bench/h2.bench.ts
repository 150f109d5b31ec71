/**
 * Issue 18: HTTP/2 on both sides of the agent, measured against HTTP/1.1 in one run.
 *
 * - "Upstream HTTP/2 vs HTTP/1.1": two agents (`outpost start`, bench policy, real gate and audit)
 *   that differ only in `upstream.http2`, the same fake provider (its own process, offering h2 and
 *   http/1.1), the same client (undici through the proxy, HTTP/1.1 to the agent). The faster is the
 *   default (`UPSTREAM_HTTP2_DEFAULT`, shared/schema/config.ts).
 * - "Client HTTP/2 vs HTTP/1.1 through the agent": one agent (the default upstream); HTTP/1.1 clients (undici ProxyAgent,
 *   one connection per concurrent request) against HTTP/2 clients (Node's http2 through a CONNECT
 *   tunnel): c=1; c=16 on one h2 connection (16 streams) and on 16 h2 connections.
 *
 * Each cell is a closed loop (`BENCH_SECONDS`, after a warm-up); `BENCH_ROUNDS` interleaved rounds
 * (the order flips each round, so drift on a shared machine falls on both sides); medians with the
 * range over rounds. CPU per request is the agent process's user+system time (/proc) over the cell
 * divided by the requests it answered. Run alone: `node dist/test/bench/run.js h2`.
 */
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import type http2 from 'node:http2';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { ProxyAgent } from 'undici';
import { startOutpost, writeAgentConfig, type RunningAgent } from '../support/cli.js';
import { h2Through } from '../support/h2-client.js';
import { createTestCa } from '../support/test-ca.js';
import { benchPolicyDocument } from './bench-policy.js';
import { forkQuiet } from './ipc-child.js';
import { median } from './proxy.bench.js';
import type { BenchSection } from './types.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const WARMUP_MS = 300;
const KINDS = ['json', 'sse'] as const;
type Kind = (typeof KINDS)[number];
const BODIES: Record<Kind, string> = {
  json: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello in five words.' }] }),
  sse: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'Say hello in five words.' }] }),
};
const HEADERS = { 'content-type': 'application/json', authorization: 'Bearer sk-bench', 'user-agent': 'outpost-bench/1' };
const HOST = 'api.openai.com';

/** One request: [total ms, first body byte ms]. */
type Send = (kind: Kind) => Promise<[number, number]>;

interface Reading {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly ttfb: number;
  /** Agent CPU (user + system) per request, ms. */
  readonly cpu: number;
  readonly errors: number;
}

/** The agent process's CPU time so far (ms), from /proc; NaN elsewhere. */
function cpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    // utime and stime are fields 14 and 15 (1-based) of the whole line: 12 and 13 after "pid (comm) ".
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return Number.NaN;
  }
}

function quantile(sorted: Float64Array, q: number): number {
  return sorted.length === 0 ? Number.NaN : (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN);
}

/** Closed loop: one worker per `senders` entry, each sending its next request when its last ends. */
async function measure(senders: readonly Send[], kind: Kind, pid: number): Promise<Reading> {
  const latencies: number[] = [];
  const firsts: number[] = [];
  let errors = 0;
  let recording = false;
  let stop = false;
  const worker = async (send: Send): Promise<void> => {
    while (!stop) {
      try {
        const [total, first] = await send(kind);
        if (recording) {
          latencies.push(total);
          firsts.push(first);
        }
      } catch {
        errors++;
      }
    }
  };
  const workers = senders.map(worker);
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  recording = true;
  const cpu0 = cpuMs(pid);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  recording = false;
  const elapsed = performance.now() - t0;
  const cpu = cpuMs(pid) - cpu0;
  stop = true;
  await Promise.all(workers);
  const sorted = Float64Array.from(latencies).sort();
  return {
    rps: latencies.length / (elapsed / 1000),
    p50: quantile(sorted, 0.5),
    p99: quantile(sorted, 0.99),
    ttfb: quantile(Float64Array.from(firsts).sort(), 0.5),
    cpu: cpu / Math.max(1, latencies.length),
    errors,
  };
}

/** An HTTP/1.1 client through the proxy (undici ProxyAgent: a connection per request in flight). */
function h1Senders(agent: RunningAgent, concurrency: number): { senders: Send[]; close: () => Promise<void> } {
  const dispatcher = new ProxyAgent({ uri: agent.proxyUrl, requestTls: { ca: [agent.caPem] } });
  const send: Send = async (kind) => {
    const start = performance.now();
    const res = await dispatcher.request({ origin: `https://${HOST}`, path: '/v1/chat/completions', method: 'POST', headers: HEADERS, body: BODIES[kind] });
    let first = 0;
    for await (const _chunk of res.body) if (first === 0) first = performance.now();
    const end = performance.now();
    if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
    return [end - start, (first === 0 ? end : first) - start];
  };
  return { senders: Array.from({ length: concurrency }, () => send), close: () => dispatcher.close() };
}

function h2Send(session: http2.ClientHttp2Session): Send {
  return (kind) =>
    new Promise((resolve, reject) => {
      const start = performance.now();
      let first = 0;
      let status = 0;
      const stream = session.request({ ':method': 'POST', ':path': '/v1/chat/completions', ...HEADERS });
      stream.once('response', (h) => {
        status = Number(h[':status']);
      });
      stream.on('data', () => {
        if (first === 0) first = performance.now();
      });
      stream.once('end', () => {
        const end = performance.now();
        if (status !== 200) reject(new Error(`status ${status}`));
        else resolve([end - start, (first === 0 ? end : first) - start]);
      });
      stream.once('error', reject);
      stream.end(BODIES[kind]);
    });
}

/** HTTP/2 clients through the proxy: `connections` sessions shared by `concurrency` workers. */
async function h2Senders(agent: RunningAgent, concurrency: number, connections: number): Promise<{ senders: Send[]; close: () => Promise<void> }> {
  const sessions = await Promise.all(Array.from({ length: connections }, () => h2Through(agent.proxyUrl, HOST, agent.caPem)));
  const senders = Array.from({ length: concurrency }, (_, i) => h2Send(sessions[i % connections] as http2.ClientHttp2Session));
  return {
    senders,
    close: async () => {
      await Promise.all(sessions.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}

async function startAgent(dir: string, upstreamPort: number, caFile: string, upstreamHttp2: boolean): Promise<RunningAgent> {
  await fs.mkdir(dir, { recursive: true });
  const configFile = await writeAgentConfig(dir, { policy: await benchPolicyDocument(), resolve: { [HOST]: `127.0.0.1:${upstreamPort}` }, caFile });
  const config = JSON.parse(await fs.readFile(configFile, 'utf8')) as { upstream: Record<string, unknown> };
  await fs.writeFile(configFile, JSON.stringify({ ...config, upstream: { ...config.upstream, http2: upstreamHttp2 } }));
  return startOutpost(configFile);
}

async function stopAgent(agent: RunningAgent): Promise<void> {
  const exited = new Promise((r) => agent.child.once('exit', r));
  agent.child.kill('SIGTERM');
  await exited;
}

/** `median [min–max]` of one metric over rounds. */
function spread(values: readonly number[], digits: number): string {
  const f = (v: number): string => v.toFixed(digits);
  return `${f(median(values))} [${f(Math.min(...values))}–${f(Math.max(...values))}]`;
}

interface Variant {
  readonly name: string;
  readonly agent: () => RunningAgent;
  readonly concurrency: number;
  readonly clients: (agent: RunningAgent) => Promise<{ senders: Send[]; close: () => Promise<void> }>;
}

async function runVariants(variants: readonly Variant[]): Promise<Map<string, Reading[]>> {
  const cells = new Map<string, Reading[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const kind of KINDS) {
      for (const v of round % 2 === 0 ? variants : [...variants].reverse()) {
        const agent = v.agent();
        const clients = await v.clients(agent);
        const reading = await measure(clients.senders, kind, agent.child.pid ?? 0);
        await clients.close();
        const key = `${v.name}|${kind}`;
        cells.set(key, [...(cells.get(key) ?? []), reading]);
      }
    }
  }
  return cells;
}

function rowsOf(variants: readonly Variant[], cells: Map<string, Reading[]>, label: string): Array<Record<string, string | number>> {
  const rows: Array<Record<string, string | number>> = [];
  for (const kind of KINDS) {
    for (const v of variants) {
      const r = cells.get(`${v.name}|${kind}`) ?? [];
      rows.push({
        [label]: v.name,
        body: kind,
        concurrency: v.concurrency,
        'req/s': spread(r.map((x) => x.rps), 0),
        'p50 ms': spread(r.map((x) => x.p50), 2),
        'p99 ms': median(r.map((x) => x.p99)),
        'first byte ms': median(r.map((x) => x.ttfb)),
        'agent CPU ms/req': median(r.map((x) => x.cpu)),
        errors: median(r.map((x) => x.errors)),
      });
    }
  }
  return rows;
}

/** Runs both sections. */
export async function run(): Promise<BenchSection[]> {
  const ca = await createTestCa('Outpost Bench Root');
  const leaf = ca.issue([HOST, '127.0.0.1']);
  const upstream = forkQuiet(path.join(here, 'proxy-upstream.js'));
  upstream.send({ cert: leaf.cert, key: leaf.key, http2: true });
  const upstreamPort = await new Promise<number>((resolve) => upstream.once('message', (m: { port: number }) => resolve(m.port)));
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-bench-h2-'));
  const agents: RunningAgent[] = [];
  try {
    const viaH2 = await startAgent(path.join(dir, 'h2'), upstreamPort, ca.caFile, true);
    agents.push(viaH2);
    const viaH1 = await startAgent(path.join(dir, 'h1'), upstreamPort, ca.caFile, false);
    agents.push(viaH1);

    const upstreamVariants: Variant[] = [1, 16].flatMap((c) => [
      { name: 'h2 upstream', agent: () => viaH2, concurrency: c, clients: async (a: RunningAgent) => h1Senders(a, c) },
      { name: 'http/1.1 upstream', agent: () => viaH1, concurrency: c, clients: async (a: RunningAgent) => h1Senders(a, c) },
    ]);
    // Names must be unique per cell: concurrency goes into them.
    const upstreamCells = await runVariants(upstreamVariants.map((v) => ({ ...v, name: `${v.name} c=${v.concurrency}` })));
    const upstreamRows = rowsOf(
      upstreamVariants.map((v) => ({ ...v, name: `${v.name} c=${v.concurrency}` })),
      upstreamCells,
      'upstream',
    );

    // The default agent: HTTP/1.1 upstream (the faster in the section above).
    const clientAgent = (): RunningAgent => viaH1;
    const clientVariants: Variant[] = [
      { name: 'http/1.1 client, 1 connection', agent: clientAgent, concurrency: 1, clients: async (a) => h1Senders(a, 1) },
      { name: 'h2 client, 1 connection', agent: clientAgent, concurrency: 1, clients: (a) => h2Senders(a, 1, 1) },
      { name: 'http/1.1 client, 16 connections', agent: clientAgent, concurrency: 16, clients: async (a) => h1Senders(a, 16) },
      { name: 'h2 client, 1 connection × 16 streams', agent: clientAgent, concurrency: 16, clients: (a) => h2Senders(a, 16, 1) },
      { name: 'h2 client, 16 connections', agent: clientAgent, concurrency: 16, clients: (a) => h2Senders(a, 16, 16) },
    ];
    const clientCells = await runVariants(clientVariants);
    const clientRows = rowsOf(clientVariants, clientCells, 'client');

    const rps = (cells: Map<string, Reading[]>, key: string): number => median((cells.get(key) ?? []).map((x) => x.rps));
    const upstreamNotes = KINDS.flatMap((kind) =>
      [1, 16].map((c) => `${kind} c=${c}: h2 upstream ${(rps(upstreamCells, `h2 upstream c=${c}|${kind}`) / rps(upstreamCells, `http/1.1 upstream c=${c}|${kind}`)).toFixed(2)}× the req/s of http/1.1 upstream`),
    );
    const common = `medians [range] of ${ROUNDS} interleaved rounds of ${SECONDS} s; outpost start (bench policy, real gate and audit); fake provider in its own process offering h2 and http/1.1`;
    return [
      { title: 'Upstream HTTP/2 vs HTTP/1.1', rows: upstreamRows, notes: [common, 'client: undici ProxyAgent (HTTP/1.1 to the agent), the same for both', ...upstreamNotes] },
      { title: 'Client HTTP/2 vs HTTP/1.1 through the agent', rows: clientRows, notes: [common, 'upstream http/1.1 (the default); HTTP/1.1 clients: undici ProxyAgent; h2 clients: node:http2 through a CONNECT tunnel', 'first byte: median time to the first body byte (the first SSE event for streams)'] },
    ];
  } finally {
    for (const a of agents) await stopAgent(a);
    upstream.kill();
    await fs.rm(dir, { recursive: true, force: true });
    await ca.dispose();
  }
}
