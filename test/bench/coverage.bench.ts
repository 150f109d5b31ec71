/**
 * Issue 16's benchmark: the governed paths added for coverage beside the OpenAI path, through the
 * whole agent (`outpost start` with the bench policy plus a listed MCP server): an OpenAI chat
 * completion (JSON), an MCP `tools/call` answered as JSON and as SSE (tool rules, argument and
 * result guardrails, one record per call), and a Bedrock ConverseStream (SigV4-shaped request, the
 * binary event stream parsed as it passes). Closed loop at concurrency 1 and 16; per cell: req/s,
 * p50, first-byte p50, and the agent's CPU per request (from /proc, Linux). Cells interleave across
 * paths for `BENCH_ROUNDS` rounds (default 3) of `BENCH_SECONDS` (default 2); medians reported.
 */
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { ProxyAgent, type Dispatcher } from 'undici';
import { startOutpost, writeAgentConfig } from '../support/cli.js';
import { createTestCa } from '../support/test-ca.js';
import { benchPolicyDocument } from './bench-policy.js';
import { forkQuiet } from './ipc-child.js';
import { median } from './proxy.bench.js';
import type { BenchSection } from './types.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const WARMUP_MS = 300;
const CONCURRENCY = [1, 16] as const;
/** Linux reports process CPU in clock ticks of 1/100 s (USER_HZ on every mainstream build). */
const TICK_MS = 10;

const MCP_HOST = 'mcp.tickets.example';
const BEDROCK_HOST = 'bedrock-runtime.us-east-1.amazonaws.com';
const NOVA = 'us.amazon.nova-pro-v1:0';

interface PathSpec {
  readonly name: string;
  readonly origin: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

const PATHS: readonly PathSpec[] = [
  {
    name: 'openai chat (json)',
    origin: 'https://api.openai.com',
    path: '/v1/chat/completions',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bench' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello in five words.' }] }),
  },
  {
    name: 'mcp tools/call (json)',
    origin: `https://${MCP_HOST}`,
    path: '/mcp',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'search_tickets', arguments: { query: 'printer out of paper' } } }),
  },
  {
    name: 'mcp tools/call (sse)',
    origin: `https://${MCP_HOST}`,
    path: '/mcp',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18', 'x-bench-mcp': 'sse' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 8, method: 'tools/call', params: { name: 'search_tickets', arguments: { query: 'printer out of paper' } } }),
  },
  {
    name: 'bedrock converse-stream (eventstream)',
    origin: `https://${BEDROCK_HOST}`,
    path: `/model/${encodeURIComponent(NOVA)}/converse-stream`,
    headers: {
      'content-type': 'application/json',
      authorization: 'AWS4-HMAC-SHA256 Credential=AKIAFAKEBENCHUSER000/20261205/us-east-1/bedrock/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=0000000000000000000000000000000000000000000000000000000000000000',
      'x-amz-date': '20261205T000000Z',
    },
    body: JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'Say hello in five words.' }] }], inferenceConfig: { maxTokens: 64 } }),
  },
];

interface Cell {
  readonly rps: number;
  readonly p50: number;
  readonly ttfb: number;
  readonly requests: number;
  readonly errors: number;
}

/** The agent's CPU so far (user + system), ms. */
function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  // After "pid (comm) ": field 3 is index 0, so utime (14) and stime (15) are 11 and 12.
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

async function once(d: Dispatcher, p: PathSpec): Promise<[number, number]> {
  const start = performance.now();
  const res = await d.request({ origin: p.origin, path: p.path, method: 'POST', headers: p.headers, body: p.body });
  let first = 0;
  for await (const _chunk of res.body) if (first === 0) first = performance.now();
  const end = performance.now();
  if (res.statusCode !== 200) throw new Error(`${p.name}: status ${res.statusCode}`);
  return [end - start, (first === 0 ? end : first) - start];
}

async function measure(d: Dispatcher, p: PathSpec, concurrency: number): Promise<Cell> {
  const totals: number[] = [];
  const firsts: number[] = [];
  let errors = 0;
  let recording = false;
  let stop = false;
  const worker = async (): Promise<void> => {
    while (!stop) {
      try {
        const [total, first] = await once(d, p);
        if (recording) {
          totals.push(total);
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
  return { rps: totals.length / (elapsed / 1000), p50: median(totals), ttfb: median(firsts), requests: totals.length, errors };
}

/** Runs the coverage bench. */
export async function run(): Promise<BenchSection> {
  const ca = await createTestCa('Outpost Coverage Bench Root');
  const leaf = ca.issue(['api.openai.com', MCP_HOST, BEDROCK_HOST]);
  const upstream = forkQuiet(path.join(here, 'coverage-upstream.js'));
  upstream.send({ cert: leaf.cert, key: leaf.key });
  const port = await new Promise<number>((resolve) => upstream.once('message', (m: { port: number }) => resolve(m.port)));
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-bench-coverage-'));
  const policy = await benchPolicyDocument();
  (policy as { interception: { hosts: string[] } }).interception.hosts.push(BEDROCK_HOST);
  policy['mcp'] = { unlisted: 'allow', servers: [{ id: 'tickets', url: `https://${MCP_HOST}/mcp`, tools: { allow: ['*'], deny: ['delete_*'] } }] };
  const address = `127.0.0.1:${port}`;
  const config = await writeAgentConfig(dir, { policy, resolve: { 'api.openai.com': address, [MCP_HOST]: address, [BEDROCK_HOST]: address }, caFile: ca.caFile });
  const agent = await startOutpost(config);
  const pid = agent.child.pid ?? -1;
  const cells = new Map<string, Cell[]>();
  const cpu = new Map<string, number[]>();
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const c of CONCURRENCY) {
        for (const p of PATHS) {
          const d = new ProxyAgent({ uri: agent.proxyUrl, requestTls: { ca: [agent.caPem] } });
          const before = cpuMsOf(pid);
          const cell = await measure(d, p, c);
          const used = cpuMsOf(pid) - before;
          await d.close();
          const key = `${p.name}|${c}`;
          cells.set(key, [...(cells.get(key) ?? []), cell]);
          // CPU covers warm-up too: divide by every request the cell completed, recorded or not.
          cpu.set(key, [...(cpu.get(key) ?? []), used / (cell.requests * ((SECONDS * 1000 + WARMUP_MS) / (SECONDS * 1000)))]);
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
  const rows = CONCURRENCY.flatMap((c) =>
    PATHS.map((p) => {
      const key = `${p.name}|${c}`;
      const list = cells.get(key) ?? [];
      return {
        path: p.name,
        c,
        'req/s': median(list.map((x) => x.rps)),
        'p50 ms': median(list.map((x) => x.p50)),
        'first byte p50 ms': median(list.map((x) => x.ttfb)),
        'agent CPU ms/req': median(cpu.get(key) ?? []),
        errors: list.reduce((n, x) => n + x.errors, 0),
      };
    }),
  );
  const openAi = rows.find((r) => r.path === PATHS[0]?.name && r.c === 1);
  const notes = rows
    .filter((r) => r.c === 1 && r !== openAi && openAi !== undefined)
    .map((r) => `${r.path}: agent CPU per request ${(r['agent CPU ms/req'] / (openAi?.['agent CPU ms/req'] ?? 1)).toFixed(2)}× the OpenAI path's at c=1`);
  return {
    title: 'Coverage paths (issue 16): MCP and Bedrock event stream beside OpenAI, through outpost start',
    rows,
    notes: [...notes, 'the whole agent (CLI) with the bench policy plus a listed MCP server; upstream in its own process; CPU from /proc (10 ms ticks), divided by the requests of each cell'],
  };
}
