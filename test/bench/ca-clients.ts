/**
 * TLS clients for the CA benchmark, each job in its own worker thread, so client-side handshake work
 * lands neither on the terminator's event loop nor on the loop that times the existing connection
 * (in the agent, clients are other processes). A worker posts one result message and exits.
 */
import tls from 'node:tls';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';

/** What the bench asks a worker to do. */
export type ClientJob =
  /** Handshakes one after another (each a full handshake: no session resumption). */
  | { kind: 'sequential'; port: number; ca: string; hosts: string[] }
  /** Handshakes all at once. */
  | { kind: 'burst'; port: number; ca: string; hosts: string[] }
  /** One connection, round trips until told 'stop'; posts 'ready' once warmed. */
  | { kind: 'pinger'; port: number; ca: string; host: string };

/** What a worker answers. */
export interface ClientResult {
  handshakesMs: number[];
  pingsMs: number[];
}

function connect(port: number, ca: string, servername: string): Promise<{ socket: tls.TLSSocket; ms: number }> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername, ca }, () => resolve({ socket, ms: performance.now() - start }));
    socket.once('error', reject);
  });
}

function ping(socket: tls.TLSSocket): Promise<number> {
  const start = performance.now();
  return new Promise((resolve) => {
    socket.once('data', () => resolve(performance.now() - start));
    socket.write('p');
  });
}

async function sequential(job: Extract<ClientJob, { kind: 'sequential' }>): Promise<ClientResult> {
  const handshakesMs: number[] = [];
  for (const host of job.hosts) {
    const { socket, ms } = await connect(job.port, job.ca, host);
    handshakesMs.push(ms);
    socket.destroy();
  }
  return { handshakesMs, pingsMs: [] };
}

async function burst(job: Extract<ClientJob, { kind: 'burst' }>): Promise<ClientResult> {
  const results = await Promise.all(job.hosts.map((h) => connect(job.port, job.ca, h)));
  for (const r of results) r.socket.destroy();
  return { handshakesMs: results.map((r) => r.ms), pingsMs: [] };
}

async function pinger(job: Extract<ClientJob, { kind: 'pinger' }>): Promise<ClientResult> {
  const { socket } = await connect(job.port, job.ca, job.host);
  for (let i = 0; i < 50; i++) await ping(socket);
  let stop = false;
  parentPort?.once('message', () => {
    stop = true;
  });
  parentPort?.postMessage('ready');
  const pingsMs: number[] = [];
  while (!stop) pingsMs.push(await ping(socket));
  socket.destroy();
  return { handshakesMs: [], pingsMs };
}

const job = workerData as ClientJob;
const result = job.kind === 'sequential' ? await sequential(job) : job.kind === 'burst' ? await burst(job) : await pinger(job);
parentPort?.postMessage(result);
