/**
 * TLS clients for the CA benchmark, each job in its own worker thread, so client-side handshake work
 * lands neither on the terminator's event loop nor on the loop that times the existing connection
 * (in the agent, clients are other processes). A worker posts one result message and exits.
 * With `proxy` set, each client goes through Outpost's engine as a real one does: CONNECT host:443
 * to the engine, then TLS over the tunnel, and the pinger's round trip is an HTTP request that the
 * engine forwards to the `upstream` job (another worker).
 */
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';

/** What the bench asks a worker to do. */
export type ClientJob =
  /** Handshakes one after another (each a full handshake: no session resumption). */
  | { kind: 'sequential'; port: number; ca: string; hosts: string[]; proxy?: boolean }
  /** Handshakes all at once. */
  | { kind: 'burst'; port: number; ca: string; hosts: string[]; proxy?: boolean }
  /** One connection, round trips until told 'stop'; posts 'ready' once warmed. */
  | { kind: 'pinger'; port: number; ca: string; host: string; proxy?: boolean }
  /** An HTTPS upstream answering `ok` to everything; posts its port, stops on any message. */
  | { kind: 'upstream'; cert: string; key: string };

/** What a worker answers. */
export interface ClientResult {
  handshakesMs: number[];
  pingsMs: number[];
  /** When each ping was sent (performance.timeOrigin + now(): comparable across threads). */
  pingsAt?: number[];
  /** A burst: when its last handshake completed, before it closed its connections (same clock). */
  doneAt?: number;
}

const clock = (): number => performance.timeOrigin + performance.now();

const contexts = new Map<string, tls.SecureContext>();

/** A TLS connection to `servername`, directly or through the engine (CONNECT first); `ms` counts both. */
function connect(port: number, ca: string, servername: string, proxy = false): Promise<{ socket: tls.TLSSocket; ms: number }> {
  const start = performance.now();
  // One client context per worker, as a real client keeps one: `ca` on each connect would build a
  // context per connection (~1 ms of client CPU each), and on 2 cores that CPU is taken from the
  // proxy being measured.
  const secureContext = (contexts.get(ca) ?? contexts.set(ca, tls.createSecureContext({ ca })).get(ca)) as tls.SecureContext;
  return new Promise((resolve, reject) => {
    const secure = (over?: net.Socket): void => {
      const socket = tls.connect({ ...(over ? { socket: over } : { host: '127.0.0.1', port }), servername, secureContext }, () => resolve({ socket, ms: performance.now() - start }));
      socket.once('error', reject);
    };
    if (!proxy) return secure();
    const raw = net.connect(port, '127.0.0.1');
    raw.setNoDelay(true);
    raw.once('error', reject);
    let head = '';
    const onData = (d: Buffer): void => {
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      raw.off('data', onData);
      raw.pause();
      if (!head.startsWith('HTTP/1.1 200')) return reject(new Error(`CONNECT answered ${head.slice(0, 40)}`));
      secure(raw);
    };
    raw.on('data', onData);
    raw.write(`CONNECT ${servername}:443 HTTP/1.1\r\nHost: ${servername}:443\r\n\r\n`);
  });
}

/** One round trip: an echoed byte, or (through the engine) a whole HTTP exchange. */
function ping(socket: tls.TLSSocket, host: string, http: boolean): Promise<number> {
  const start = performance.now();
  if (!http) {
    return new Promise((resolve) => {
      socket.once('data', () => resolve(performance.now() - start));
      socket.write('p');
    });
  }
  return new Promise((resolve) => {
    let got = '';
    const onData = (d: Buffer): void => {
      got += d.toString('latin1');
      const end = got.indexOf('\r\n\r\n');
      if (end === -1) return;
      const length = Number(/content-length: *(\d+)/i.exec(got.slice(0, end))?.[1] ?? NaN);
      const done = Number.isNaN(length) ? got.endsWith('0\r\n\r\n') : got.length >= end + 4 + length;
      if (!done) return;
      socket.off('data', onData);
      resolve(performance.now() - start);
    };
    socket.on('data', onData);
    socket.write(`GET /v1/models HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
  });
}

/**
 * Hangs up. Through the engine, politely (close_notify, FIN): a reset right after the handshake can
 * make the kernel drop the client's Finished unread, which the engine counts as a pinning abort.
 */
function close(socket: tls.TLSSocket, proxy = false): void {
  if (proxy) socket.end();
  else socket.destroy();
}

async function sequential(job: Extract<ClientJob, { kind: 'sequential' }>): Promise<ClientResult> {
  const handshakesMs: number[] = [];
  for (const host of job.hosts) {
    const { socket, ms } = await connect(job.port, job.ca, host, job.proxy);
    handshakesMs.push(ms);
    close(socket, job.proxy);
  }
  return { handshakesMs, pingsMs: [] };
}

async function burst(job: Extract<ClientJob, { kind: 'burst' }>): Promise<ClientResult> {
  const results = await Promise.all(job.hosts.map((h) => connect(job.port, job.ca, h, job.proxy)));
  const doneAt = clock();
  for (const r of results) close(r.socket, job.proxy);
  return { handshakesMs: results.map((r) => r.ms), pingsMs: [], doneAt };
}

async function pinger(job: Extract<ClientJob, { kind: 'pinger' }>): Promise<ClientResult> {
  const http = job.proxy === true;
  const { socket } = await connect(job.port, job.ca, job.host, http);
  for (let i = 0; i < 50; i++) await ping(socket, job.host, http);
  let stop = false;
  parentPort?.once('message', () => {
    stop = true;
  });
  parentPort?.postMessage('ready');
  const pingsMs: number[] = [];
  const pingsAt: number[] = [];
  while (!stop) {
    pingsAt.push(clock());
    pingsMs.push(await ping(socket, job.host, http));
  }
  close(socket, http);
  return { handshakesMs: [], pingsMs, pingsAt };
}

async function upstream(job: Extract<ClientJob, { kind: 'upstream' }>): Promise<void> {
  const server = https.createServer({ cert: job.cert, key: job.key, keepAliveTimeout: 60_000 }, (req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  parentPort?.postMessage((server.address() as net.AddressInfo).port);
  parentPort?.once('message', () => {
    server.closeAllConnections();
    server.close();
    parentPort?.close();
  });
}

const job = workerData as ClientJob;
if (job.kind === 'upstream') {
  await upstream(job);
} else {
  const result = job.kind === 'sequential' ? await sequential(job) : job.kind === 'burst' ? await burst(job) : await pinger(job);
  parentPort?.postMessage(result);
}
