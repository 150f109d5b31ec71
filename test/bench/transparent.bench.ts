/**
 * Issue 15.5: the transparent door side by side with the proxy door, same client (undici), same
 * fake provider, same agent process (`outpost start` with `transparent.enabled`, the bench policy,
 * the real gate and audit). The proxy door is reached with CONNECT (ProxyAgent); the transparent
 * door by connecting to its port with the provider's name as SNI, as a redirected client arrives
 * (the nftables redirect itself is kernel NAT, not measured here: it needs root and a namespace,
 * `test/e2e/transparent-netns.test.ts`). `BENCH_ROUNDS` interleaved rounds, `BENCH_SECONDS` per cell;
 * medians reported. Run alone: `node dist/test/bench/run.js transparent`.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, ProxyAgent, buildConnector, type Dispatcher } from 'undici';
import { startOutpost, writeAgentConfig } from '../support/cli.js';
import { createTestCa } from '../support/test-ca.js';
import { benchPolicyDocument } from './bench-policy.js';
import { forkQuiet } from './ipc-child.js';
import { measure, median, type Cell } from './proxy.bench.js';
import type { BenchSection } from './types.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONCURRENCY = [1, 16] as const;
const KINDS = ['json', 'sse'] as const;
const DOORS = ['proxy', 'transparent'] as const;
type Door = (typeof DOORS)[number];

/** Runs the section. */
export async function run(): Promise<BenchSection> {
  const ca = await createTestCa('Outpost Bench Root');
  const leaf = ca.issue(['api.openai.com', '127.0.0.1']);
  const upstream = forkQuiet(path.join(here, 'proxy-upstream.js'));
  upstream.send({ cert: leaf.cert, key: leaf.key });
  const upstreamPort = await new Promise<number>((resolve) => upstream.once('message', (m: { port: number }) => resolve(m.port)));
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-bench-transparent-'));
  const configFile = await writeAgentConfig(dir, { policy: await benchPolicyDocument(), resolve: { 'api.openai.com': `127.0.0.1:${upstreamPort}` }, caFile: ca.caFile });
  const config = JSON.parse(await fs.readFile(configFile, 'utf8')) as Record<string, unknown>;
  await fs.writeFile(configFile, JSON.stringify({ ...config, transparent: { enabled: true, port: 0 } }));
  const agent = await startOutpost(configFile);
  const runtime = JSON.parse(await fs.readFile(path.join(dir, 'home', 'runtime.json'), 'utf8')) as { transparentPort: number };
  const connector = buildConnector({ ca: [agent.caPem] });
  const dispatcher = (door: Door): Dispatcher =>
    door === 'proxy'
      ? new ProxyAgent({ uri: agent.proxyUrl, requestTls: { ca: [agent.caPem] } })
      : new Agent({ connect: (opts, cb) => connector({ ...opts, hostname: '127.0.0.1', port: String(runtime.transparentPort), servername: opts.hostname }, cb) });
  const origin = 'https://api.openai.com';
  const cells = new Map<string, Cell[]>();
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const kind of KINDS) {
        for (const c of CONCURRENCY) {
          // Alternate which door goes first, so drift on a shared machine falls on both.
          for (const door of round % 2 === 0 ? DOORS : [...DOORS].reverse()) {
            const d = dispatcher(door);
            const cell = await measure(d, origin, kind, c);
            await d.close();
            const key = `${door}|${kind}|${c}`;
            cells.set(key, [...(cells.get(key) ?? []), cell]);
          }
        }
      }
    }
  } finally {
    const exited = new Promise((r) => agent.child.once('exit', r));
    agent.child.kill('SIGTERM');
    await exited;
    upstream.kill();
    await fs.rm(dir, { recursive: true, force: true });
    await ca.dispose();
  }
  const rows: Array<Record<string, string | number>> = [];
  const notes: string[] = [];
  const pick = (door: Door, kind: string, c: number, f: (x: Cell) => number): number => median((cells.get(`${door}|${kind}|${c}`) ?? []).map(f));
  for (const kind of KINDS) {
    for (const c of CONCURRENCY) {
      for (const door of DOORS) {
        rows.push({
          door,
          body: kind,
          concurrency: c,
          'req/s': Math.round(pick(door, kind, c, (x) => x.rps)),
          'p50 ms': pick(door, kind, c, (x) => x.p50),
          'p99 ms': pick(door, kind, c, (x) => x.p99),
          'ttfb ms': pick(door, kind, c, (x) => x.ttfb),
          errors: pick(door, kind, c, (x) => x.errors),
        });
      }
      const ratio = pick('transparent', kind, c, (x) => x.p50) / pick('proxy', kind, c, (x) => x.p50);
      notes.push(`${kind} c=${c}: transparent p50 ${ratio.toFixed(2)}× the proxy door's`);
    }
  }
  notes.unshift(`medians of ${ROUNDS} interleaved rounds; one agent (outpost start, bench policy, real gate and audit), undici client, fake upstream in its own process`);
  return { title: 'Transparent door vs proxy door', rows, notes };
}
