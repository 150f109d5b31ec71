/**
 * Outpost's engine for the CA bench's burst measurements, in its own process as the agent runs:
 * its own event loop, heap and garbage collector, not the bench's. startProxy with the allow-all
 * gate and a LeafIssuer under the bench's root (opened from the bench's temp home, file keys),
 * upstream mapped to the bench's upstream worker. Driven over IPC by ca.bench.ts; it watches its own
 * event loop during a burst (turn-watch.ts), since that is the loop the goal is about.
 */
import { LeafIssuer } from '../../agent/ca/issuer.js';
import { KeyStore } from '../../agent/ca/keystore.js';
import { generateEcKey } from '../../agent/ca/keys.js';
import { RootAuthority } from '../../agent/ca/root-authority.js';
import { createAllowAllGate } from '../support/allow-all-gate.js';
import { startProxy, type ProxyEngine } from '../../agent/proxy/engine.js';
import { openKeychain } from '../../agent/system/keychain.js';
import { DEFAULT_AI_HOSTS } from '../../shared/policy/default-policy.js';
import { serve } from './ipc-child.js';
import { watchLoop } from './turn-watch.js';

/** What the bench asks of the engine subject. */
export type EngineRequest =
  | { readonly op: 'start'; readonly home: string; readonly upstreamPort: number; readonly upstreamCaFile: string; readonly handshakesPerTurn: number | null }
  | { readonly op: 'watch' }
  | { readonly op: 'unwatch' }
  | { readonly op: 'pinned' }
  | { readonly op: 'stop' };

/** The hosts the bench's policy intercepts: the default policy's, and the bench's own names. */
export const BENCH_HOSTS = [...DEFAULT_AI_HOSTS, '*.bench.example'];

let engine: ProxyEngine | null = null;
let watching: ReturnType<typeof watchLoop> | null = null;

async function start(request: Extract<EngineRequest, { op: 'start' }>): Promise<{ port: number }> {
  const keys = new KeyStore(await openKeychain({ home: request.home, mode: 'file' }));
  const root = await RootAuthority.open({ home: request.home, keys, constrainTo: BENCH_HOSTS });
  const issuer = await LeafIssuer.create(root.ca, { leafKey: await generateEcKey(), maxHosts: 10_000 });
  await issuer.prewarm(DEFAULT_AI_HOSTS);
  const interception = { hosts: BENCH_HOSTS, blockedHosts: [], bypassHosts: [] };
  engine = await startProxy({
    config: {
      proxy: { host: '127.0.0.1', port: 0, maxBodyBytes: 32 * 1024 * 1024 },
      upstream: { resolve: { 'api.openai.com': `127.0.0.1:${request.upstreamPort}` }, caFile: request.upstreamCaFile, proxy: null },
    },
    gate: createAllowAllGate({ interception }),
    certificates: issuer,
    pacHosts: () => interception,
    ipv6: false,
    handshakesPerTurn: request.handshakesPerTurn,
  });
  return { port: engine.address.port };
}

serve<EngineRequest>(
  {
    start,
    watch: () => {
      watching = watchLoop();
      return null;
    },
    unwatch: () => {
      const watched = watching?.stop() ?? null;
      watching = null;
      return watched;
    },
    pinned: () => engine?.stats().pinnedHosts ?? [],
  },
  async () => {
    await engine?.close();
  },
);
