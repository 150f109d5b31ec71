/**
 * A proxy under benchmark, in its own process so that its memory, CPU time and event-loop stalls
 * are its own: Outpost's engine (allow-all gate, the real leaf issuer under a test root) or
 * http-mitm-proxy with upstream keep-alive. Driven over IPC by proxy.bench.ts.
 */
import fs from 'node:fs/promises';
import https from 'node:https';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { LeafIssuer } from '../../agent/ca/issuer.js';
import { issuingCa } from '../../agent/ca/issuing-ca.js';
import { keyFromPem } from '../../agent/ca/keys.js';
import { createAllowAllGate } from '../../agent/pipeline/allow-all-gate.js';
import { startProxy, type ProxyEngine } from '../../agent/proxy/engine.js';

/** What the bench asks of a subject. */
export type SubjectRequest =
  | { readonly op: 'start'; readonly kind: 'outpost' | 'mitm'; readonly upstreamPort: number; readonly caPem: string; readonly caKeyPem: string; readonly caFile: string }
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

async function startOutpost(upstreamPort: number, caPem: string, caKeyPem: string, caFile: string): Promise<{ port: number; caPem: string }> {
  const certificates = await LeafIssuer.create(issuingCa(caPem, keyFromPem(caKeyPem), 'root'));
  const interception = { hosts: ['api.openai.com', '*.bench.test'], blockedHosts: [], bypassHosts: [] };
  const engine: ProxyEngine = await startProxy({
    config: {
      proxy: { host: '127.0.0.1', port: 0, maxBodyBytes: 32 * 1024 * 1024 },
      upstream: { resolve: { 'api.openai.com': `127.0.0.1:${upstreamPort}`, '*.bench.test': `127.0.0.1:${upstreamPort}` }, caFile, proxy: null },
    },
    gate: createAllowAllGate({ interception }),
    certificates,
    pacHosts: () => interception,
    ipv6: false,
  });
  await certificates.prewarm(['api.openai.com']);
  stop = () => engine.close();
  return { port: engine.address.port, caPem };
}

async function startMitm(upstreamPort: number, caPem: string): Promise<{ port: number; caPem: string }> {
  const require = createRequire(import.meta.url);
  const { Proxy } = require('http-mitm-proxy') as typeof import('http-mitm-proxy');
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
  const port = (proxy as unknown as { httpServer: import('node:http').Server }).httpServer.address() as import('node:net').AddressInfo;
  const mitmCa = await fs.readFile(path.join(dir, 'certs', 'ca.pem'), 'utf8');
  stop = async () => {
    proxy.close();
    await fs.rm(dir, { recursive: true, force: true });
  };
  return { port: port.port, caPem: mitmCa };
}

process.on('message', (message: SubjectRequest & { id: number }) => {
  const reply = (result: unknown): void => {
    process.send?.({ id: message.id, result });
  };
  switch (message.op) {
    case 'start':
      (message.kind === 'outpost' ? startOutpost(message.upstreamPort, message.caPem, message.caKeyPem, message.caFile) : startMitm(message.upstreamPort, message.caPem)).then(reply, (err: Error) =>
        reply({ error: err.stack ?? err.message }),
      );
      return;
    case 'mark':
      stall.reset();
      peakRss = process.memoryUsage.rss();
      cpuMark = process.cpuUsage();
      reply(null);
      return;
    case 'read': {
      const cpu = process.cpuUsage(cpuMark);
      const reading: SubjectReading = {
        rssMb: process.memoryUsage.rss() / 1048576,
        peakRssMb: peakRss / 1048576,
        cpuMs: (cpu.user + cpu.system) / 1000,
        maxStallMs: stall.max / 1e6,
      };
      reply(reading);
      return;
    }
    case 'stop':
      void stop().finally(() => {
        reply(null);
        process.exit(0);
      });
      return;
    default: {
      const never: never = message;
      throw new Error(`unknown op ${JSON.stringify(never)}`);
    }
  }
});
process.on('disconnect', () => process.exit(0));
