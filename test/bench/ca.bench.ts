/**
 * The certificate authority's cost on the request path (issue 3, goal 7). The thinnest in-process
 * TLS terminator over our CertificateSource (SNICallback → LeafIssuer, then an echo), measured by
 * node:tls clients in a worker thread:
 *  - handshake to a known host vs a host never seen (the leaf is issued during the handshake);
 *  - whether the policy's exact hosts are issued before a client asks (prewarm);
 *  - while 50 new hosts handshake at once, round trips on an existing connection.
 * Component costs (issue one leaf, key generation, node-forge signing) calibrate the numbers.
 */
import tls from 'node:tls';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { performance, monitorEventLoopDelay } from 'node:perf_hooks';
import { generateKeyPair as generateKeyPairCb } from 'node:crypto';
import { promisify } from 'node:util';
import forge from 'node-forge';
import type { AddressInfo } from 'node:net';
import type { BenchSection } from './types.js';
import type { ClientJob, ClientResult } from './ca-clients.js';
import { RootAuthority } from '../../agent/ca/root-authority.js';
import { LeafIssuer } from '../../agent/ca/issuer.js';
import { KeyStore } from '../../agent/ca/keystore.js';
import { generateEcKey } from '../../agent/ca/keys.js';
import { openKeychain } from '../../agent/system/keychain.js';
import { DEFAULT_AI_HOSTS } from '../../shared/policy/default-policy.js';

const generateKeyPair = promisify(generateKeyPairCb);

function pct(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function row(name: string, values: readonly number[], unit = 'ms'): Record<string, string | number> {
  return { measure: name, n: values.length, p50: pct(values, 50), p95: pct(values, 95), max: Math.max(...values), unit };
}

function runClients(job: ClientJob): Promise<ClientResult> {
  const worker = new Worker(new URL('./ca-clients.js', import.meta.url), { workerData: job });
  return new Promise((resolve, reject) => {
    worker.once('message', (m: ClientResult) => resolve(m));
    worker.once('error', reject);
  });
}

/** Round trips on one existing connection while `hosts` handshake at once (each side in its own worker). */
async function whileBurst(port: number, ca: string, knownHost: string, hosts: string[]): Promise<{ burst: ClientResult; pings: number[]; loopMaxMs: number; loopP95Ms: number }> {
  const worker = new Worker(new URL('./ca-clients.js', import.meta.url), { workerData: { kind: 'pinger', port, ca, host: knownHost } satisfies ClientJob });
  const pings = new Promise<ClientResult>((resolve, reject) => {
    worker.on('message', (m: ClientResult | 'ready') => {
      if (m !== 'ready') resolve(m);
    });
    worker.once('error', reject);
  });
  await new Promise<void>((resolve) => worker.once('message', () => resolve()));
  await new Promise((r) => setTimeout(r, 20)); // a few round trips before the burst
  // A fresh histogram per burst: a re-enabled one counts the time it was off as one long delay.
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const burst = await runClients({ kind: 'burst', port, ca, hosts });
  loop.disable();
  worker.postMessage('stop');
  return { burst, pings: (await pings).pingsMs, loopMaxMs: loop.max / 1e6, loopP95Ms: loop.percentile(95) / 1e6 };
}

/** The terminator: SNICallback asks the issuer; every connection echoes what it reads. */
async function startTerminator(issuer: LeafIssuer): Promise<{ port: number; close: () => Promise<void> }> {
  const server = tls.createServer({
    SNICallback: (servername, cb) => {
      const ctx = issuer.secureContext(servername);
      if (ctx instanceof Promise) ctx.then((c) => cb(null, c), (err: Error) => cb(err));
      else cb(null, ctx);
    },
  });
  server.on('secureConnection', (socket) => socket.on('data', (d) => socket.write(d)).on('error', () => {}));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise((r) => server.close(() => r())) };
}

async function componentCosts(issuer: LeafIssuer): Promise<Record<string, string | number>[]> {
  const issue: number[] = [];
  for (let i = 0; i < 300; i++) {
    const t = performance.now();
    await issuer.issue(`c${i}.bench.example`);
    issue.push(performance.now() - t);
  }
  const p256: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t = performance.now();
    await generateEcKey();
    p256.push(performance.now() - t);
  }
  const rsa: number[] = [];
  for (let i = 0; i < 8; i++) {
    const t = performance.now();
    await generateKeyPair('rsa', { modulusLength: 2048 });
    rsa.push(performance.now() - t);
  }
  // node-forge signing one RSA-2048 leaf in pure JavaScript (what http-mitm-proxy does, on the loop).
  const { privateKey } = await generateKeyPair('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const forgeKey = forge.pki.privateKeyFromPem(privateKey);
  const forgePub = forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e);
  const forgeSign: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t = performance.now();
    const cert = forge.pki.createCertificate();
    cert.publicKey = forgePub;
    cert.serialNumber = `0${i + 1}`;
    cert.validity.notBefore = new Date();
    cert.validity.notAfter = new Date(Date.now() + 86_400_000);
    cert.setSubject([{ name: 'commonName', value: `f${i}.example` }]);
    cert.setIssuer([{ name: 'commonName', value: 'forge root' }]);
    cert.setExtensions([{ name: 'subjectAltName', altNames: [{ type: 2, value: `f${i}.example` }] }]);
    cert.sign(forgeKey, forge.md.sha256.create());
    forgeSign.push(performance.now() - t);
  }
  return [
    row('issue one leaf (P-256, native async sign + secure context)', issue),
    row('P-256 key pair (async)', p256),
    row('RSA-2048 key pair (native async; http-mitm-proxy: per host)', rsa),
    row('node-forge signs one RSA leaf (pure JS, blocks the loop)', forgeSign),
  ];
}

/** Runs the CA benchmark. */
export async function run(): Promise<BenchSection[]> {
  const home = await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-ca-bench-'));
  try {
    const keys = new KeyStore(await openKeychain({ home, mode: 'file' }));
    const root = await RootAuthority.open({ home, keys, constrainTo: [...DEFAULT_AI_HOSTS, '*.bench.example'] });
    const ca = root.ca.certPem;

    // Prewarm: the default policy's exact hosts, issued at start.
    const issuer = await LeafIssuer.create(root.ca, { leafKey: await generateEcKey(), maxHosts: 10_000 });
    const exact = DEFAULT_AI_HOSTS.filter((h) => !h.startsWith('*.'));
    const t0 = performance.now();
    await issuer.prewarm(DEFAULT_AI_HOSTS);
    const prewarmMs = performance.now() - t0;
    const ready = exact.filter((h) => !(issuer.secureContext(h) instanceof Promise)).length;

    const server = await startTerminator(issuer);
    try {
      await runClients({ kind: 'sequential', port: server.port, ca, hosts: Array.from({ length: 60 }, (_, i) => (i % 2 ? 'api.openai.com' : `w${i}.bench.example`)) });
      // Known and new hosts alternate, so load from other processes on the machine hits both alike.
      const mixed = await runClients({ kind: 'sequential', port: server.port, ca, hosts: Array.from({ length: 600 }, (_, i) => (i % 2 ? `n${i}.bench.example` : 'api.openai.com')) });
      const known = { handshakesMs: mixed.handshakesMs.filter((_, i) => i % 2 === 0) };
      const fresh = { handshakesMs: mixed.handshakesMs.filter((_, i) => i % 2 === 1) };

      // Three bursts of each kind, alternating; the table keeps every handshake and every round trip.
      const loopMax: number[] = [];
      const loopP95: number[] = [];
      const stall = { burst: { handshakesMs: [] as number[] }, pings: [] as number[] };
      const baseline = { burst: { handshakesMs: [] as number[] }, pings: [] as number[] };
      for (let round = 0; round < 3; round++) {
        const s = await whileBurst(server.port, ca, 'api.openai.com', Array.from({ length: 50 }, (_, i) => `s${round}x${i}.bench.example`));
        loopMax.push(s.loopMaxMs);
        loopP95.push(s.loopP95Ms);
        const b = await whileBurst(server.port, ca, 'api.openai.com', Array.from({ length: 50 }, () => 'api.openai.com'));
        stall.burst.handshakesMs.push(...s.burst.handshakesMs);
        stall.pings.push(...s.pings);
        baseline.burst.handshakesMs.push(...b.burst.handshakesMs);
        baseline.pings.push(...b.pings);
      }

      const added = pct(fresh.handshakesMs, 50) - pct(known.handshakesMs, 50);
      const maxWait = Math.max(...stall.pings);
      const baseWait = Math.max(...baseline.pings);
      const handshakes: BenchSection = {
        title: 'CA: TLS handshakes through the issuer (terminator in-process, clients in a worker)',
        rows: [
          row('handshake, known host', known.handshakesMs),
          row('handshake, new host (leaf issued in the handshake)', fresh.handshakesMs),
          row('50 new hosts at once (×3): each handshake', stall.burst.handshakesMs),
          row('  meanwhile: round trip on an existing connection', stall.pings),
          row('50 known hosts at once (×3): each handshake (baseline)', baseline.burst.handshakesMs),
          row('  meanwhile: round trip on an existing connection (baseline)', baseline.pings),
          { measure: 'terminator event-loop delay during the 50 new hosts (per burst)', n: loopMax.length, p50: '-', p95: Math.max(...loopP95), max: Math.max(...loopMax), unit: 'ms' },
        ],
        notes: [
          `new host adds ${added.toFixed(3)} ms at p50 over a known host (goal ≤ 2 ms): ${added <= 2 ? 'met' : 'NOT met'}`,
          `policy's exact hosts issued before any client: ${ready}/${exact.length} ready after prewarm in ${prewarmMs.toFixed(1)} ms: ${ready === exact.length ? 'met' : 'NOT met'}`,
          `longest wait on an existing connection while 50 new hosts handshake: ${maxWait.toFixed(2)} ms (goal ≤ 10 ms): ${maxWait <= 10 ? 'met' : 'NOT met'}; with 50 known hosts (no issuance, handshake work only) ${baseWait.toFixed(2)} ms`,
          `machine: ${os.cpus().length} cores, load average ${os.loadavg()[0]?.toFixed(2)} at the end (shared with other work: waits include time the OS ran other processes)`,
          'calibration (issue 3): the thinnest in-process MITM signing P-256 leaves through WebCrypto with @peculiar/x509 paid ~12 ms per new host; http-mitm-proxy 155–325 ms for the first CONNECT to a new host',
        ],
      };
      const components: BenchSection = { title: 'CA: component costs (main thread timing, sequential)', rows: await componentCosts(issuer) };
      return [handshakes, components];
    } finally {
      await server.close();
    }
  } finally {
    await fs.rm(home, { recursive: true, force: true });
  }
}
