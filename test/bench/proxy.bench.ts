/**
 * Issue 4's benchmark: the same undici client, side by side in one run, against the fake upstream
 * directly, through Outpost's engine, and through http-mitm-proxy with upstream keep-alive.
 * JSON and SSE chat completions at concurrency 1, 16 and 64 (closed loop); first handshake to a
 * new host and the proxy's event-loop stall meanwhile; idle and peak RSS; CPU per request.
 *
 * Processes: the upstream and each proxy run in their own child (their own event loop and
 * memory); this process only generates load. Every cell runs `BENCH_ROUNDS` times (default 3),
 * interleaved across subjects so that noise from other work on the machine spreads evenly, and
 * the median is reported. `BENCH_SECONDS` sets a cell's length (default 2).
 */
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Agent, ProxyAgent, buildConnector, type Dispatcher } from 'undici';
import { startOutpost, writeAgentConfig } from '../support/cli.js';
import { createTestCa } from '../support/test-ca.js';
import { benchPolicyDocument } from './bench-policy.js';
import type { SubjectKind, SubjectReading, SubjectRequest } from './proxy-subject.js';
import { Child, forkQuiet } from './ipc-child.js';
import type { BenchSection } from './types.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const WARMUP_MS = 300;
/** How long subjects sit idle before the settled reading: V8's memory reducer acts after several seconds without work. */
const SETTLE_MS = Number(process.env.BENCH_SETTLE_MS ?? 15_000);
/** Idle time after the large stream before the "after" RSS reading. */
const LARGE_SETTLE_MS = Number(process.env.BENCH_LARGE_SETTLE_MS ?? 5_000);
const CONCURRENCY = [1, 16, 64] as const;
const KINDS = ['json', 'sse'] as const;
type Kind = (typeof KINDS)[number];
type SubjectName = 'direct' | 'outpost' | 'outpost+gate' | 'http-mitm-proxy';

const BODIES: Record<Kind, string> = {
  json: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello in five words.' }] }),
  sse: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'Say hello in five words.' }] }),
};
const HEADERS = { 'content-type': 'application/json', authorization: 'Bearer sk-bench', 'user-agent': 'outpost-bench/1' };

/** One measured cell (also used by transparent.bench.ts). */
export interface Cell {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  /** Median time to the first body byte (SSE), ms. */
  readonly ttfb: number;
  readonly requests: number;
  readonly errors: number;
}

function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] ?? Number.NaN) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

/** One request; resolves to [total ms, first-byte ms]. */
async function once(dispatcher: Dispatcher, origin: string, kind: Kind): Promise<[number, number]> {
  const start = performance.now();
  const res = await dispatcher.request({ origin, path: '/v1/chat/completions', method: 'POST', headers: HEADERS, body: BODIES[kind] });
  let first = 0;
  for await (const _chunk of res.body) if (first === 0) first = performance.now();
  const end = performance.now();
  if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
  return [end - start, (first === 0 ? end : first) - start];
}

/** The large-stream row's size (MB); `BENCH_LARGE_MB`. */
const LARGE_MB = Number(process.env.BENCH_LARGE_MB ?? 20);

/** One large streamed answer (the fake's `x-bench-stream-bytes`); resolves to MB/s. */
async function largeStream(dispatcher: Dispatcher, origin: string): Promise<number> {
  const start = performance.now();
  const res = await dispatcher.request({
    origin,
    path: '/v1/chat/completions',
    method: 'POST',
    headers: { ...HEADERS, 'x-bench-stream-bytes': String(LARGE_MB * 1048576) },
    body: BODIES.sse,
  });
  let bytes = 0;
  for await (const chunk of res.body) bytes += (chunk as Buffer).length;
  if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
  return bytes / 1048576 / ((performance.now() - start) / 1000);
}

/** Large-stream readings of one subject: MB/s, peak RSS during and RSS after (MB). */
interface LargeReading {
  readonly mbps: number;
  readonly peakRss: number;
  readonly afterRss: number;
}

/** Closed-loop load: `concurrency` workers, each sending its next request when the last ends. */
export async function measure(dispatcher: Dispatcher, origin: string, kind: Kind, concurrency: number): Promise<Cell> {
  const latencies: number[] = [];
  const firsts: number[] = [];
  let errors = 0;
  let recording = false;
  let stop = false;
  const worker = async (): Promise<void> => {
    while (!stop) {
      try {
        const [total, first] = await once(dispatcher, origin, kind);
        if (recording) {
          latencies.push(total);
          firsts.push(first);
        }
      } catch {
        errors++;
      }
    }
  };
  const workers = Array.from({ length: concurrency }, worker);
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  recording = true;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  recording = false;
  const elapsed = performance.now() - t0;
  stop = true;
  await Promise.all(workers);
  const sorted = Float64Array.from(latencies).sort();
  return {
    rps: latencies.length / (elapsed / 1000),
    p50: quantile(sorted, 0.5),
    p99: quantile(sorted, 0.99),
    ttfb: quantile(Float64Array.from(firsts).sort(), 0.5),
    requests: latencies.length,
    errors,
  };
}

interface Subject {
  readonly name: SubjectName;
  readonly child: Child<SubjectRequest> | null;
  /** A fresh client (a fresh pool: every cell starts from new connections, then warms up). */
  dispatcher(): Dispatcher;
}

/** Resident memory of a process (Linux /proc), MB; NaN elsewhere. */
function rssOf(pid: number): number {
  try {
    return Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? Number.NaN) / 1024;
  } catch {
    return Number.NaN;
  }
}

/**
 * The product as shipped: `outpost start` (store, policy watcher, CA, gate, engine, control API,
 * metrics, logs) on a temp home with the bench policy, its upstream mapped to the bench's fake
 * provider. Only its memory is measured (the table's other rows measure the request path).
 */
async function startWholeAgent(upstreamPort: number, upstreamCaFile: string): Promise<{ pid: number; dispatcher: () => Dispatcher; stop: () => Promise<void> }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-bench-agent-'));
  const config = await writeAgentConfig(dir, { policy: await benchPolicyDocument(), resolve: { 'api.openai.com': `127.0.0.1:${upstreamPort}` }, caFile: upstreamCaFile });
  const agent = await startOutpost(config);
  return {
    pid: agent.child.pid ?? -1,
    dispatcher: () => new ProxyAgent({ uri: agent.proxyUrl, requestTls: { ca: [agent.caPem] } }),
    stop: async () => {
      const exited = new Promise((r) => agent.child.once('exit', r));
      agent.child.kill('SIGTERM');
      await exited;
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/** Runs the whole benchmark. */
export async function run(): Promise<BenchSection[]> {
  const ca = await createTestCa('Outpost Bench Root');
  const leaf = ca.issue(['api.openai.com', '*.bench.test', '127.0.0.1']);
  const upstreamProcess = forkQuiet(path.join(here, 'proxy-upstream.js'));
  upstreamProcess.send({ cert: leaf.cert, key: leaf.key });
  const upstreamPort = await new Promise<number>((resolve) => upstreamProcess.once('message', (m: { port: number }) => resolve(m.port)));

  const start = async (kind: SubjectKind): Promise<{ child: Child<SubjectRequest>; port: number; caPem: string }> => {
    const child = Child.fork<SubjectRequest>(path.join(here, 'proxy-subject.js'));
    const started = await child.ask<{ port: number; caPem: string; error?: string }>({ op: 'start', kind, upstreamPort, caPem: ca.caPem, caKeyPem: ca.keyPem, caFile: ca.caFile });
    if (started.error !== undefined) throw new Error(started.error);
    return { child, ...started };
  };
  const outpost = await start('outpost');
  const gated = await start('outpost-gated');
  const mitm = await start('mitm');
  const directConnector = buildConnector({ ca: [ca.caPem] });
  const subjects: Subject[] = [
    {
      name: 'direct',
      child: null,
      dispatcher: () =>
        new Agent({
          connect: (opts, cb) => directConnector({ ...opts, hostname: '127.0.0.1', port: String(upstreamPort), servername: opts.hostname }, cb),
        }),
    },
    { name: 'outpost', child: outpost.child, dispatcher: () => new ProxyAgent({ uri: `http://127.0.0.1:${outpost.port}`, requestTls: { ca: [outpost.caPem] } }) },
    { name: 'outpost+gate', child: gated.child, dispatcher: () => new ProxyAgent({ uri: `http://127.0.0.1:${gated.port}`, requestTls: { ca: [gated.caPem] } }) },
    { name: 'http-mitm-proxy', child: mitm.child, dispatcher: () => new ProxyAgent({ uri: `http://127.0.0.1:${mitm.port}`, requestTls: { ca: [mitm.caPem] } }) },
  ];

  const idle = new Map<SubjectName, SubjectReading>();
  const settled = new Map<SubjectName | 'outpost start', number>();
  const whole = await startWholeAgent(upstreamPort, ca.caFile);
  let wholeIdle: number;
  const cells = new Map<string, Cell[]>();
  const cpu = new Map<string, number[]>();
  const peaks = new Map<SubjectName, number>();
  const origin = 'https://api.openai.com';

  try {
    // Idle RSS after one request (listeners, pools, the first leaf all in place).
    for (const s of subjects) {
      const d = s.dispatcher();
      await once(d, origin, 'json');
      await d.close();
      if (s.child) {
        await new Promise((r) => setTimeout(r, 500));
        idle.set(s.name, await s.child.ask<SubjectReading>({ op: 'read' }));
      }
    }
    {
      const d = whole.dispatcher();
      await once(d, origin, 'json');
      await d.close();
      await new Promise((r) => setTimeout(r, 500));
      wholeIdle = rssOf(whole.pid);
    }
    // Everyone idle together, then the settled reading (after V8's memory reducer has run).
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    for (const s of subjects) if (s.child) settled.set(s.name, (await s.child.ask<SubjectReading>({ op: 'read' })).rssMb);
    settled.set('outpost start', rssOf(whole.pid));
    await whole.stop();
    for (let round = 0; round < ROUNDS; round++) {
      for (const kind of KINDS) {
        for (const c of CONCURRENCY) {
          for (const s of subjects) {
            const d = s.dispatcher();
            await s.child?.ask({ op: 'mark' });
            const cell = await measure(d, origin, kind, c);
            const reading = s.child ? await s.child.ask<SubjectReading>({ op: 'read' }) : null;
            await d.close();
            const key = `${s.name}|${kind}|${c}`;
            cells.set(key, [...(cells.get(key) ?? []), cell]);
            if (reading) {
              // CPU covers warm-up too: divide by every request the cell completed, recorded or not.
              const all = cell.requests * ((SECONDS * 1000 + WARMUP_MS) / (SECONDS * 1000));
              cpu.set(key, [...(cpu.get(key) ?? []), reading.cpuMs / all]);
              if (c === 64) peaks.set(s.name, Math.max(peaks.get(s.name) ?? 0, reading.peakRssMb));
            }
          }
        }
      }
    }

    // One large streamed answer per subject per round, interleaved: throughput, memory during and after.
    const large = new Map<SubjectName, LargeReading[]>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const s of subjects) {
        const d = s.dispatcher();
        await s.child?.ask({ op: 'mark' });
        const mbps = await largeStream(d, origin);
        await d.close();
        const during = s.child ? await s.child.ask<SubjectReading>({ op: 'read' }) : null;
        // After: once the memory reducer had a moment (as in the settled reading, shorter).
        await new Promise((r) => setTimeout(r, LARGE_SETTLE_MS));
        const after = s.child ? await s.child.ask<SubjectReading>({ op: 'read' }) : null;
        large.set(s.name, [...(large.get(s.name) ?? []), { mbps, peakRss: during?.peakRssMb ?? Number.NaN, afterRss: after?.rssMb ?? Number.NaN }]);
      }
    }

    // First handshake to a host the proxy has not seen: leaf issuance plus both TLS handshakes.
    const firstHandshake = new Map<SubjectName, { ms: number; stall: number }>();
    for (const s of subjects) {
      const times: number[] = [];
      const stalls: number[] = [];
      for (let i = 0; i < 3; i++) {
        const d = s.dispatcher();
        await s.child?.ask({ op: 'mark' });
        const [ms] = await once(d, s.name === 'direct' ? origin : `https://fresh-${i}-${process.pid}.bench.test`, 'json');
        const reading = s.child ? await s.child.ask<SubjectReading>({ op: 'read' }) : null;
        await d.close();
        times.push(ms);
        stalls.push(reading?.maxStallMs ?? 0);
      }
      firstHandshake.set(s.name, { ms: median(times), stall: median(stalls) });
    }

    return report(subjects.map((s) => s.name), cells, cpu, idle, peaks, firstHandshake, settled, wholeIdle, large);
  } finally {
    for (const s of subjects) await s.child?.ask({ op: 'stop' });
    upstreamProcess.kill();
    await ca.dispose();
  }
}

function report(
  names: SubjectName[],
  cells: Map<string, Cell[]>,
  cpu: Map<string, number[]>,
  idle: Map<SubjectName, SubjectReading>,
  peaks: Map<SubjectName, number>,
  firstHandshake: Map<SubjectName, { ms: number; stall: number }>,
  settled: Map<SubjectName | 'outpost start', number>,
  wholeIdle: number,
  large: Map<SubjectName, LargeReading[]>,
): BenchSection[] {
  const med = (key: string, pick: (c: Cell) => number): number => median((cells.get(key) ?? []).map(pick));
  const rows: Array<Record<string, string | number>> = [];
  for (const kind of KINDS) {
    for (const c of CONCURRENCY) {
      for (const name of names) {
        const key = `${name}|${kind}|${c}`;
        rows.push({
          subject: name,
          kind,
          c,
          'req/s': Math.round(med(key, (x) => x.rps)),
          'p50 ms': med(key, (x) => x.p50),
          'p99 ms': med(key, (x) => x.p99),
          'first byte ms': kind === 'sse' ? med(key, (x) => x.ttfb) : '',
          'added p50 ms': name === 'direct' ? '' : med(key, (x) => x.p50) - med(`direct|${kind}|${c}`, (x) => x.p50),
          'CPU ms/req': cpu.has(key) ? median(cpu.get(key) ?? []) : '',
          errors: (cells.get(key) ?? []).reduce((n, x) => n + x.errors, 0),
        });
      }
    }
  }
  const resources: Array<Record<string, string | number>> = names.map((name) => ({
    subject: name,
    'idle RSS MB': idle.get(name)?.rssMb ?? '',
    [`settled idle RSS MB (${SETTLE_MS / 1000} s)`]: settled.get(name) ?? '',
    'peak RSS MB (c=64)': peaks.get(name) ?? '',
    'first handshake ms': firstHandshake.get(name)?.ms ?? 0,
    'event-loop stall ms': name === 'direct' ? '' : (firstHandshake.get(name)?.stall ?? 0),
  }));
  resources.push({ subject: 'outpost start (whole agent)', 'idle RSS MB': wholeIdle, [`settled idle RSS MB (${SETTLE_MS / 1000} s)`]: settled.get('outpost start') ?? '', 'peak RSS MB (c=64)': '', 'first handshake ms': '', 'event-loop stall ms': '' });
  const memoryNotes = [
    'idle RSS: 0.5 s after one request through the proxy (listeners, pools, the first leaf in place); settled: after every process sat idle together, once V8\'s memory reducer shrank the young generation',
    'outpost start (whole agent): the CLI as shipped (store, policy watcher, CA, gate, engine, control API, metrics, logs) with the bench policy; memory only',
    ...names
      .filter((name) => idle.get(name)?.heap !== undefined)
      .map((name) => {
        const h = idle.get(name)?.heap ?? {};
        return `${name} at idle: V8 heap ${h['heapUsed']} MB used of ${h['heapTotal']} MB (young generation ${h['newSpace']} MB), external ${h['external']} MB; resident anonymous ${h['rssAnon']} MB, file-backed ${h['rssFile']} MB (the node binary and shared libraries), ${h['threads']} threads`;
      }),
  ];

  const verdict = (ok: boolean): string => (ok ? 'met' : 'NOT met');
  const largeOf = (name: SubjectName, pick: (r: LargeReading) => number): number => median((large.get(name) ?? []).map(pick));
  const directMbps = largeOf('direct', (r) => r.mbps);
  const largeRows: Array<Record<string, string | number>> = names.map((name) => ({
    subject: name,
    'MB/s': largeOf(name, (r) => r.mbps),
    'MB/s range': (large.get(name) ?? []).map((r) => r.mbps.toFixed(1)).join('–'),
    '× direct': largeOf(name, (r) => r.mbps) / directMbps,
    'peak RSS MB (during)': name === 'direct' ? '' : largeOf(name, (r) => r.peakRss),
    [`RSS MB after (${LARGE_SETTLE_MS / 1000} s)`]: name === 'direct' ? '' : largeOf(name, (r) => r.afterRss),
  }));
  const largeNotes = [
    `one ${LARGE_MB} MB streamed chat answer (~1 KB text deltas, written as fast as the reader takes it) per subject per round; medians of ${ROUNDS} interleaved rounds`,
    ...(['outpost', 'outpost+gate'] as const).map((name) => {
      const share = largeOf(name, (r) => r.mbps) / directMbps;
      return `${name}: large stream at ${(share * 100).toFixed(0)}% of direct ≥ 50%: ${verdict(share >= 0.5)}`;
    }),
  ];
  const notes: string[] = [];
  for (const name of ['outpost', 'outpost+gate'] as const) {
    const addedP50 = med(`${name}|json|1`, (x) => x.p50) - med('direct|json|1', (x) => x.p50);
    const ratio16 = med(`${name}|json|16`, (x) => x.rps) / med('http-mitm-proxy|json|16', (x) => x.rps);
    const addedTtfb = med(`${name}|sse|1`, (x) => x.ttfb) - med('direct|sse|1', (x) => x.ttfb);
    const idleRss = idle.get(name)?.rssMb ?? Number.NaN;
    const peakRss = peaks.get(name) ?? Number.NaN;
    notes.push(
      `${name}: added p50 at c=1 (JSON) ${addedP50.toFixed(3)} ms ≤ 0.3 ms: ${verdict(addedP50 <= 0.3)}; ` +
        `req/s at c=16 (JSON) ${ratio16.toFixed(2)}× http-mitm-proxy's ≥ 1.5×: ${verdict(ratio16 >= 1.5)}; ` +
        `SSE first byte added at c=1 ${addedTtfb.toFixed(3)} ms ≤ 0.5 ms: ${verdict(addedTtfb <= 0.5)}; ` +
        `idle RSS ${idleRss.toFixed(1)} MB ≤ 80 MB: ${verdict(idleRss <= 80)}; peak RSS at c=64 ${peakRss.toFixed(1)} MB ≤ 150 MB: ${verdict(peakRss <= 150)}`,
    );
  }
  {
    // Issue 11's goals for governance on the hot path (same client, same upstream, this run).
    const sse16 = med('outpost+gate|sse|16', (x) => x.rps) / med('http-mitm-proxy|sse|16', (x) => x.rps);
    const addedGated = med('outpost+gate|json|1', (x) => x.p50) - med('direct|json|1', (x) => x.p50);
    const addedEngine = med('outpost|json|1', (x) => x.p50) - med('direct|json|1', (x) => x.p50);
    notes.push(
      `governed SSE req/s at c=16 ${sse16.toFixed(2)}× http-mitm-proxy's ≥ 1.5×: ${verdict(sse16 >= 1.5)}; ` +
        `governed JSON added p50 at c=1 ${(addedGated / addedEngine).toFixed(2)}× the allow-all gate's (${addedGated.toFixed(3)} vs ${addedEngine.toFixed(3)} ms) ≤ 1.3×: ${verdict(addedGated <= 1.3 * addedEngine)}`,
    );
  }
  notes.push(
    `medians of ${ROUNDS} interleaved rounds of ${SECONDS} s per cell; client undici (ProxyAgent through proxies); upstream and each proxy in their own process`,
    'outpost: the engine with the allow-all gate; outpost+gate: the real gate with the example policy (guardrails, budgets; its rate limit removed) and the SQLite audit store',
    'CPU ms/req: the proxy process\'s user+system time over the requests it served; on 2 shared cores this decides throughput',
  );
  return [
    { title: 'Interception engine: throughput and latency (issue 4)', rows, notes },
    { title: 'Interception engine: memory and first handshake', rows: resources, notes: memoryNotes },
    { title: 'Interception engine: one large streamed answer', rows: largeRows, notes: largeNotes },
  ];
}
