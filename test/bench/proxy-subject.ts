/**
 * A proxy under benchmark, in its own process so that its memory, CPU time and event-loop stalls
 * are its own: Outpost's engine (allow-all gate, the real leaf issuer under a test root) or
 * http-mitm-proxy with upstream keep-alive. Driven over IPC by proxy.bench.ts.
 */
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import https from 'node:https';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import v8 from 'node:v8';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type * as MitmModule from 'http-mitm-proxy';
import type { Gate } from '../../agent/pipeline/seam.js';
import type { ProxyEngine } from '../../agent/proxy/engine.js';
import type { Policy } from '../../shared/schema/policy.js';
import { serve } from './ipc-child.js';

// Each subject imports only what it runs (below, dynamically): idle RSS is the point of measuring
// each in its own process, and the governance modules weigh far more than the engine.

/** `outpost`: the engine with the allow-all gate; `outpost-gated`: with the real gate, the example policy and the audit store. */
export type SubjectKind = 'outpost' | 'outpost-gated' | 'mitm';

/** What the bench asks of a subject. */
export type SubjectRequest =
  | { readonly op: 'start'; readonly kind: SubjectKind; readonly upstreamPort: number; readonly caPem: string; readonly caKeyPem: string; readonly caFile: string }
  | { readonly op: 'mark' }
  | { readonly op: 'read' }
  | { readonly op: 'stop' };

/** What a subject reports. */
export interface SubjectReading {
  readonly rssMb: number;
  readonly peakRssMb: number;
  /** CPU time (user + system) since the last mark, ms. */
  readonly cpuMs: number;
  /** Longest event-loop stall since the last mark, ms. */
  readonly maxStallMs: number;
  /** Where the memory is (MB): V8 heap used/committed, young generation committed, external, code. */
  readonly heap?: Readonly<Record<string, number>>;
}

/** Linux: resident anonymous vs file-backed (the node binary, shared libraries) memory, MB. */
function procStatus(): Record<string, number> {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const kb = (name: string): number => Math.round(Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0) / 102.4) / 10;
    return { rssAnon: kb('RssAnon'), rssFile: kb('RssFile'), threads: Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? 0) };
  } catch {
    return {};
  }
}

function heapBreakdown(): Record<string, number> {
  const mb = (n: number): number => Math.round((n / 1048576) * 10) / 10;
  const m = process.memoryUsage();
  const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, s]));
  const code = v8.getHeapCodeStatistics();
  return {
    heapUsed: mb(m.heapUsed),
    heapTotal: mb(m.heapTotal),
    newSpace: mb(spaces['new_space']?.space_size ?? 0),
    oldSpace: mb(spaces['old_space']?.space_size ?? 0),
    codeSpace: mb(spaces['code_space']?.space_size ?? 0),
    external: mb(m.external),
    arrayBuffers: mb(m.arrayBuffers),
    bytecode: mb(code.bytecode_and_metadata_size),
    ...procStatus(),
  };
}

const stall = monitorEventLoopDelay({ resolution: 1 });
stall.enable();
let peakRss = process.memoryUsage.rss();
let cpuMark = process.cpuUsage();
// Sampling RSS is cheap (one syscall); 50 ms catches the peak of a 2-second run.
setInterval(() => {
  const rss = process.memoryUsage.rss();
  if (rss > peakRss) peakRss = rss;
}, 50).unref();

let stop: () => Promise<void> = async () => {};

/** The bench policy (bench-policy.ts), validated as the agent validates a policy file. */
async function benchPolicy(): Promise<Policy> {
  const { policy: policySchema } = await import('../../shared/schema/policy.js');
  const { benchPolicyDocument } = await import('./bench-policy.js');
  return policySchema.parse(await benchPolicyDocument());
}

async function startOutpost(governed: boolean, upstreamPort: number, caPem: string, caKeyPem: string, caFile: string): Promise<{ port: number; caPem: string }> {
  const { LeafIssuer } = await import('../../agent/ca/issuer.js');
  const { issuingCa } = await import('../../agent/ca/issuing-ca.js');
  const { keyFromPem } = await import('../../agent/ca/keys.js');
  const { startProxy } = await import('../../agent/proxy/engine.js');
  const certificates = await LeafIssuer.create(issuingCa(caPem, keyFromPem(caKeyPem), 'root'));
  let gate: Gate;
  let closeStore = async (): Promise<void> => {};
  let interception = { hosts: ['api.openai.com', '*.bench.test'], blockedHosts: [] as string[], bypassHosts: [] as string[] };
  if (governed) {
    const { createGate } = await import('../../agent/pipeline/gate.js');
    const { openAgentStore } = await import('../../agent/agent-store.js');
    const home = await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-bench-home-'));
    const store = openAgentStore({ home, audit: { spoolMaxBytes: 1 << 30 } }, { failMode: 'open' });
    const policy = await benchPolicy();
    interception = policy.interception;
    gate = createGate({ policy, audit: store.audit, secrets: { resolve: async () => null }, identity: { device: 'dev-bench', user: 'bench@acme.example' } });
    closeStore = async () => {
      await store.close();
      await fs.rm(home, { recursive: true, force: true });
    };
  } else {
    const { createAllowAllGate } = await import('../support/allow-all-gate.js');
    gate = createAllowAllGate({ interception });
  }
  const engine: ProxyEngine = await startProxy({
    config: {
      proxy: { host: '127.0.0.1', port: 0, maxBodyBytes: 32 * 1024 * 1024 },
      upstream: { resolve: { 'api.openai.com': `127.0.0.1:${upstreamPort}`, '*.bench.test': `127.0.0.1:${upstreamPort}` }, caFile, proxy: null },
    },
    gate,
    certificates,
    pacHosts: () => interception,
    ipv6: false,
  });
  await certificates.prewarm(['api.openai.com']);
  stop = async () => {
    await engine.close();
    await closeStore();
  };
  return { port: engine.address.port, caPem };
}

async function startMitm(upstreamPort: number, caPem: string): Promise<{ port: number; caPem: string }> {
  const require = createRequire(import.meta.url);
  const { Proxy } = require('http-mitm-proxy') as typeof MitmModule;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-bench-mitm-'));
  const proxy = new Proxy();
  proxy.onError(() => {});
  // The same upstream as Outpost: rewrite the destination, keep Host (and so SNI) as sent.
  proxy.onRequest((ctx, callback) => {
    ctx.proxyToServerRequestOptions!.host = '127.0.0.1';
    ctx.proxyToServerRequestOptions!.port = upstreamPort;
    callback();
  });
  await new Promise<void>((resolve) =>
    proxy.listen({ host: '127.0.0.1', port: 0, sslCaDir: dir, keepAlive: true, httpsAgent: new https.Agent({ keepAlive: true, ca: caPem }) }, () => resolve()),
  );
  const port = (proxy as unknown as { httpServer: Server }).httpServer.address() as AddressInfo;
  const mitmCa = await fs.readFile(path.join(dir, 'certs', 'ca.pem'), 'utf8');
  stop = async () => {
    proxy.close();
    await fs.rm(dir, { recursive: true, force: true });
  };
  return { port: port.port, caPem: mitmCa };
}

serve<SubjectRequest>(
  {
    start: (m) => (m.kind === 'mitm' ? startMitm(m.upstreamPort, m.caPem) : startOutpost(m.kind === 'outpost-gated', m.upstreamPort, m.caPem, m.caKeyPem, m.caFile)),
    mark: () => {
      stall.reset();
      peakRss = process.memoryUsage.rss();
      cpuMark = process.cpuUsage();
      return null;
    },
    read: (): SubjectReading => {
      const cpu = process.cpuUsage(cpuMark);
      return {
        rssMb: process.memoryUsage.rss() / 1048576,
        peakRssMb: peakRss / 1048576,
        cpuMs: (cpu.user + cpu.system) / 1000,
        maxStallMs: stall.max / 1e6,
        heap: heapBreakdown(),
      };
    },
  },
  () => stop(),
);
