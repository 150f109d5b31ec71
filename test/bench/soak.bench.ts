/**
 * Issue 10's keep-up guarantee, for the whole process: `outpost start` (the bench policy, its
 * audit store, control API) under mixed traffic for a few minutes: JSON and streamed completions,
 * requests a guardrail blocks, CONNECTs to a blocked host, blind tunnels, and clients that reset at
 * each stage (after the CONNECT, mid-handshake, mid-request, mid-stream). After a warm-up round
 * and after each load round, the traffic stops and the agent sits idle; its RSS and open file
 * descriptors (Linux /proc) are then read. Kept up: RSS back near the level it settled at after
 * the warm-up, the same number of descriptors, no client connection left open.
 *
 * Runs by itself with `node dist/test/bench/run.js soak` (about 3 minutes); `SOAK_ROUNDS` (4),
 * `SOAK_LOAD_MS` (20 s), `SOAK_SETTLE_MS` (12 s), `SOAK_WORKERS` (8) change its size.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { ProxyAgent } from 'undici';
import { startOutpost, writeAgentConfig, type RunningAgent } from '../support/cli.js';
import { clientHello, dialRaw, firstData, tlsOver } from '../support/raw-tls.js';
import { createTestCa } from '../support/test-ca.js';
import { benchPolicyDocument } from './bench-policy.js';
import { forkQuiet } from './ipc-child.js';
import type { BenchSection } from './types.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROUNDS = Number(process.env.SOAK_ROUNDS ?? 4);
const LOAD_MS = Number(process.env.SOAK_LOAD_MS ?? 20_000);
/** Idle time before each reading: V8's memory reducer acts after several seconds without work. */
const SETTLE_MS = Number(process.env.SOAK_SETTLE_MS ?? 12_000);
const WORKERS = Number(process.env.SOAK_WORKERS ?? 8);
/** The upstream's keep-alive: short, so the agent's idle upstream connections are gone by each reading. */
const UPSTREAM_KEEPALIVE_MS = 3_000;
/** RSS after the last round may exceed the settled level by this fraction and still count as back. */
const RSS_TOLERANCE = 0.1;

/** Governed and tunnelled (not in the policy) hosts, all answered by the bench's fake upstream. */
const GOVERNED = 'api.openai.com';
/** Intercepted (`*.bench.test`): the handshake resets go here, so that pinning detection, which
 *  tunnels a host after a few aborted handshakes, never changes what happens to api.openai.com. */
const HANDSHAKE_HOST = 'handshake.bench.test';
const TUNNELLED = 'tunnel.soak.example';
const BLOCKED = 'api.deepseek.com';

const OPS = ['json', 'stream', 'guardrail block', 'blocked CONNECT', 'tunnel', 'reset after CONNECT', 'reset mid-handshake', 'reset mid-request', 'reset mid-stream'] as const;
type Op = (typeof OPS)[number];
/** Relative weights of the mix. */
const MIX: Readonly<Record<Op, number>> = {
  json: 30,
  stream: 20,
  'guardrail block': 5,
  'blocked CONNECT': 5,
  tunnel: 10,
  'reset after CONNECT': 5,
  'reset mid-handshake': 5,
  'reset mid-request': 10,
  'reset mid-stream': 10,
};

const chatBody = (prompt: string, stream: boolean): string => JSON.stringify({ model: 'gpt-4o-mini', stream, messages: [{ role: 'user', content: prompt }] });
const HEADERS = { 'content-type': 'application/json', authorization: 'Bearer sk-soak', 'user-agent': 'outpost-soak/1' };

/** A request head and body written by hand (raw-socket operations). */
function rawChat(stream: boolean, host = GOVERNED): string {
  const body = chatBody('Say hello in five words.', stream);
  return `POST /v1/chat/completions HTTP/1.1\r\nHost: ${host}\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

/** A deterministic PRNG (mulberry32): the same mix in every run. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The agent's resident memory and descriptors, from /proc. */
interface ProcReading {
  readonly rssMb: number;
  readonly fds: number;
  readonly socketFds: number;
}

function readProc(pid: number): ProcReading {
  const rssKb = Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? Number.NaN);
  const dir = `/proc/${pid}/fd`;
  let fds = 0;
  let socketFds = 0;
  for (const fd of readdirSync(dir)) {
    let target: string;
    try {
      target = readlinkSync(`${dir}/${fd}`);
    } catch {
      continue; // closed meanwhile
    }
    fds++;
    if (target.startsWith('socket:')) socketFds++;
  }
  return { rssMb: rssKb / 1024, fds, socketFds };
}

/** What the traffic needs: the agent, its CA, the upstream's CA, and the client pool of the round. */
interface Traffic {
  readonly agent: RunningAgent;
  readonly proxyPort: number;
  readonly agentCa: tls.SecureContext;
  readonly upstreamCa: tls.SecureContext;
  readonly hello: Buffer;
}

/** CONNECTs a raw socket to `authority` and checks the answer's status line. */
async function connect(t: Traffic, authority: string, status: number): Promise<Awaited<ReturnType<typeof dialRaw>>> {
  const socket = await dialRaw(t.proxyPort);
  socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
  const head = (await firstData(socket)).toString('latin1');
  if (!head.startsWith(`HTTP/1.1 ${status} `)) {
    socket.destroy();
    throw new Error(`CONNECT ${authority}: ${head.slice(0, 40)}`);
  }
  return socket;
}

/** TLS to `host` through a CONNECT; the raw socket stays resettable. */
async function secureThrough(t: Traffic, host: string, authority = `${host}:443`, ca = t.agentCa): Promise<{ raw: Awaited<ReturnType<typeof dialRaw>>; secure: tls.TLSSocket }> {
  const raw = await connect(t, authority, 200);
  raw.pause();
  const secure = tlsOver(raw, host, ca);
  await new Promise<void>((resolve, reject) => {
    secure.once('secureConnect', resolve);
    secure.once('close', () => reject(new Error(`TLS to ${host} closed before it was secured`)));
  });
  return { raw, secure };
}

/** Reads a whole response (the request asked `connection: close`) and checks its status. */
async function readResponse(secure: tls.TLSSocket, status: number): Promise<void> {
  let text = '';
  for await (const chunk of secure) text += (chunk as Buffer).toString('latin1');
  if (!text.startsWith(`HTTP/1.1 ${status} `)) throw new Error(`expected ${status}, got ${JSON.stringify(text.slice(0, 40))}`);
}

/** One operation of the mix; throws when the agent's answer is not the expected one. */
async function perform(t: Traffic, dispatcher: ProxyAgent, op: Op): Promise<void> {
  switch (op) {
    case 'json':
    case 'stream':
    case 'guardrail block': {
      const prompt = op === 'guardrail block' ? 'What is the status of project falcon?' : 'Say hello in five words.';
      const res = await dispatcher.request({ origin: `https://${GOVERNED}`, path: '/v1/chat/completions', method: 'POST', headers: HEADERS, body: chatBody(prompt, op === 'stream') });
      await res.body.dump({ limit: Number.POSITIVE_INFINITY });
      const expected = op === 'guardrail block' ? 403 : 200;
      if (res.statusCode !== expected) throw new Error(`${op}: status ${res.statusCode}`);
      return;
    }
    case 'blocked CONNECT': {
      // Like curl: read the 403's head, leave its body unread, close (the kernel answers with a reset).
      const socket = await connect(t, `${BLOCKED}:443`, 403);
      socket.resetAndDestroy();
      return;
    }
    case 'tunnel': {
      // Bytes are not decrypted: the client meets the upstream's own certificate.
      const { secure } = await secureThrough(t, GOVERNED, `${TUNNELLED}:443`, t.upstreamCa);
      secure.write(rawChat(false));
      await readResponse(secure, 200);
      return;
    }
    case 'reset after CONNECT': {
      const socket = await connect(t, `${HANDSHAKE_HOST}:443`, 200);
      socket.resetAndDestroy();
      return;
    }
    case 'reset mid-handshake': {
      const socket = await connect(t, `${HANDSHAKE_HOST}:443`, 200);
      socket.write(t.hello);
      await firstData(socket);
      socket.resetAndDestroy();
      return;
    }
    case 'reset mid-request': {
      const { raw, secure } = await secureThrough(t, GOVERNED);
      const whole = rawChat(false);
      await new Promise<void>((resolve) => secure.write(whole.slice(0, whole.length - 10), () => resolve()));
      raw.resetAndDestroy();
      return;
    }
    case 'reset mid-stream': {
      const { raw, secure } = await secureThrough(t, GOVERNED);
      secure.write(rawChat(true));
      await firstData(secure);
      raw.resetAndDestroy();
      return;
    }
    default: {
      const never: never = op;
      throw new Error(`unknown operation ${String(never)}`);
    }
  }
}

/** Counts per operation for one round. */
type Counts = Record<Op, { done: number; unexpected: number }>;

const emptyCounts = (): Counts => Object.fromEntries(OPS.map((op) => [op, { done: 0, unexpected: 0 }])) as Counts;

/** `WORKERS` closed-loop workers run the mix for `ms`; returns the counts and the peak RSS seen. */
async function load(t: Traffic, ms: number, seed: number, pid: number): Promise<{ counts: Counts; peakRssMb: number; errors: string[] }> {
  const counts = emptyCounts();
  const errors: string[] = [];
  const total = OPS.reduce((s, op) => s + MIX[op], 0);
  let stop = false;
  let peakRssMb = 0;
  const sampler = setInterval(() => {
    peakRssMb = Math.max(peakRssMb, readProc(pid).rssMb);
  }, 250);
  const dispatcher = new ProxyAgent({ uri: t.agent.proxyUrl, requestTls: { ca: [t.agent.caPem] } });
  const worker = async (w: number): Promise<void> => {
    const random = prng(seed * 1000 + w);
    while (!stop) {
      let pick = random() * total;
      const op = OPS.find((o) => (pick -= MIX[o]) < 0) ?? 'json';
      try {
        await perform(t, dispatcher, op);
        counts[op].done++;
      } catch (err) {
        counts[op].unexpected++;
        if (errors.length < 5) errors.push(`${op}: ${(err as Error).message}`);
      }
    }
  };
  const workers = Array.from({ length: WORKERS }, (_, w) => worker(w));
  await new Promise((r) => setTimeout(r, ms));
  stop = true;
  await Promise.all(workers);
  clearInterval(sampler);
  await dispatcher.close();
  return { counts, peakRssMb, errors };
}

/** The agent's client connections now (control API status). */
async function engineConnections(agent: RunningAgent, token: string): Promise<number> {
  const res = await fetch(`${agent.controlUrl}/v1/status`, { headers: { authorization: `Bearer ${token}` } });
  return ((await res.json()) as { engine: { connections: number } }).engine.connections;
}

const round1 = (n: number): number => Math.round(n * 10) / 10;

/** Runs the soak. */
export async function run(): Promise<BenchSection[]> {
  const ca = await createTestCa('Outpost Soak Root');
  const leaf = ca.issue([GOVERNED, '*.bench.test', '127.0.0.1']);
  const upstream = forkQuiet(path.join(here, 'proxy-upstream.js'));
  upstream.send({ cert: leaf.cert, key: leaf.key, keepAliveMs: UPSTREAM_KEEPALIVE_MS });
  const upstreamPort = await new Promise<number>((resolve) => upstream.once('message', (m: { port: number }) => resolve(m.port)));
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-soak-'));
  const address = `127.0.0.1:${upstreamPort}`;
  const config = await writeAgentConfig(dir, { policy: await benchPolicyDocument(), resolve: { [GOVERNED]: address, '*.bench.test': address, [TUNNELLED]: address }, caFile: ca.caFile });
  const agent = await startOutpost(config);
  const pid = agent.child.pid ?? -1;
  const token = (await fs.readFile(path.join(dir, 'home', 'control.token'), 'utf8')).trim();
  const traffic: Traffic = {
    agent,
    proxyPort: Number(new URL(agent.proxyUrl).port),
    agentCa: tls.createSecureContext({ ca: agent.caPem }),
    upstreamCa: tls.createSecureContext({ ca: ca.caPem }),
    hello: await clientHello(HANDSHAKE_HOST),
  };

  const rows: Record<string, string | number>[] = [];
  const totals = emptyCounts();
  const errors: string[] = [];
  const started = readProc(pid);
  rows.push({ phase: 'started', ops: 0, unexpected: 0, 'peak RSS MB': round1(started.rssMb), 'idle RSS MB': round1(started.rssMb), 'vs settled MB': '', fds: started.fds, 'socket fds': started.socketFds, 'client conns': await engineConnections(agent, token) });
  let settled: ProcReading | null = null;
  let last: ProcReading = started;
  let lastConnections = 0;
  let survived: boolean;
  const t0 = Date.now();
  try {
    for (let r = 0; r <= ROUNDS; r++) {
      const round = await load(traffic, LOAD_MS, r + 1, pid);
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      last = readProc(pid);
      lastConnections = await engineConnections(agent, token);
      settled ??= last;
      let ops = 0;
      let unexpected = 0;
      for (const op of OPS) {
        totals[op].done += round.counts[op].done;
        totals[op].unexpected += round.counts[op].unexpected;
        ops += round.counts[op].done + round.counts[op].unexpected;
        unexpected += round.counts[op].unexpected;
      }
      errors.push(...round.errors.slice(0, Math.max(0, 5 - errors.length)));
      rows.push({
        phase: r === 0 ? 'warm-up (settled level)' : `round ${r}`,
        ops,
        unexpected,
        'peak RSS MB': round1(round.peakRssMb),
        'idle RSS MB': round1(last.rssMb),
        'vs settled MB': r === 0 ? '' : round1(last.rssMb - settled.rssMb),
        fds: last.fds,
        'socket fds': last.socketFds,
        'client conns': lastConnections,
      });
    }
  } finally {
    survived = agent.child.exitCode === null && agent.child.signalCode === null;
    const exited = new Promise((resolve) => agent.child.once('exit', resolve));
    agent.child.kill('SIGTERM');
    await exited;
    upstream.kill();
    await fs.rm(dir, { recursive: true, force: true });
    await ca.dispose();
  }

  const reference = settled ?? started;
  const seconds = (Date.now() - t0) / 1000;
  const allOps = OPS.reduce((s, op) => s + totals[op].done + totals[op].unexpected, 0);
  const allUnexpected = OPS.reduce((s, op) => s + totals[op].unexpected, 0);
  const rssBack = last.rssMb <= reference.rssMb * (1 + RSS_TOLERANCE);
  const fdGrowth = last.fds - reference.fds;
  const notes = [
    `${allOps} operations in ${ROUNDS + 1} rounds of ${LOAD_MS / 1000} s (${WORKERS} workers), each followed by ${SETTLE_MS / 1000} s idle; ${round1(seconds)} s in all; ${allUnexpected} unexpected answers${errors.length > 0 ? ` (first: ${errors.join('; ')})` : ''}`,
    `RSS after the last round ${round1(last.rssMb)} MB vs ${round1(reference.rssMb)} MB settled after the warm-up (${round1(((last.rssMb - reference.rssMb) / reference.rssMb) * 100)}%); goal: back within ${RSS_TOLERANCE * 100}%: ${rssBack ? 'met' : 'NOT met'}`,
    `descriptors after the last round ${last.fds} vs ${reference.fds} settled (${fdGrowth >= 0 ? '+' : ''}${fdGrowth}); goal: no growth: ${fdGrowth <= 0 ? 'met' : 'NOT met'}; client connections left open: ${lastConnections}`,
    `the same agent process served every round: ${survived ? 'yes' : 'NO (it exited)'}`,
  ];
  const opRows = OPS.map((op) => ({ operation: op, weight: MIX[op], done: totals[op].done, unexpected: totals[op].unexpected }));
  return [
    { title: 'Soak: the whole agent under mixed traffic and resets, idle readings after each round (Linux /proc)', rows, notes },
    { title: 'Soak: the traffic mix', rows: opRows },
  ];
}
