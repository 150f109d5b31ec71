/**
 * Helpers for the sync tests: an agent enrolled with a real test gateway (the enrollment made by the
 * real `enrollAgent` over HTTP, the credential in the file key store of the agent's home), started
 * with short reconnect windows so a test waits on events rather than on the default backoff.
 */
import { once } from 'node:events';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { agentConfig } from '../../../shared/schema/config.js';
import { resolveAgentConfig } from '../../../agent/config/load.js';
import { enrollAgent } from '../../../agent/sync/enroll.js';
import type { GatewaySync } from '../../../agent/sync/gateway-sync.js';
import type { PolicyInput } from '../../../shared/schema/policy.js';
import { startTestAgent, type TestAgent, type TestAgentOptions } from '../../support/agent.js';
import type { TestGateway } from '../../support/gateway.js';

/** Short reconnect windows for tests (the schedule is the product's, only scaled). */
export const TEST_BACKOFF = { baseMs: 50, capMs: 400 } as const;

/** Makes a home and enrolls it with `gw` (a fresh token); resolves to the home. */
export async function enrolledHome(gw: TestGateway, options: { team?: string; url?: string; caMode?: 'standalone' | 'fleet' } = {}): Promise<string> {
  const home = await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-sync-'));
  const t = await gw.admin('POST', '/admin/v1/enrollment-tokens', { team: options.team ?? null });
  if (t.status !== 201) throw new Error(`token: ${t.status} ${t.text}`);
  const config = resolveAgentConfig(agentConfig.parse({ home, ca: { keyStore: 'file', mode: options.caMode ?? 'standalone' }, log: { level: 'silent' } }), home, null, {});
  await enrollAgent(config, { gatewayUrl: options.url ?? gw.url, token: t.body.token as string });
  return home;
}

/** Starts an agent in an enrolled home with the test backoff. */
export function startSyncedAgent(home: string, options: Omit<TestAgentOptions, 'home'> & { policy?: PolicyInput } = {}): Promise<TestAgent> {
  return startTestAgent({ ...options, home, start: { sync: { backoff: TEST_BACKOFF, ...options.start?.sync }, ...options.start } });
}

/** The agent's sync client (throws when the agent did not start one). */
export function syncOf(t: TestAgent): GatewaySync {
  const sync = t.agent.sync;
  if (sync === null) throw new Error('the agent has no sync client: not enrolled?');
  return sync;
}

/** Resolves once the sync client is connected (at once when it is). */
export async function connected(sync: GatewaySync): Promise<void> {
  if (sync.connection.state === 'connected') return;
  await once(sync.connection, 'connected');
}

/** Resolves once the signed policy `version` was handled (applied or refused), with the outcome. */
export async function policyHandled(sync: GatewaySync, version: number): Promise<string> {
  // Handled before the test started waiting (on connect, while the agent was starting)?
  if (sync.policy.refused?.version === version) return 'refused';
  if (sync.policy.version === version) return 'applied';
  for (;;) {
    const [event] = (await once(sync, 'policy')) as [{ version: number; outcome: string }];
    if (event.version === version) return event.outcome;
  }
}

/** Resolves once the gateway acknowledged every record the agent wrote so far. */
export async function allAcknowledged(t: TestAgent): Promise<void> {
  const sync = syncOf(t);
  const audit = t.agent.store.audit;
  audit.flushNow();
  while (audit.acknowledgedSeq < audit.lastSeq) await once(sync, 'ack');
}

/**
 * A TCP relay in front of the gateway, so a test can cut the agent's connection (at once, or in the
 * middle of a frame once some bytes went up) and point it at a restarted gateway on another port.
 */
export interface Relay {
  readonly url: string;
  /** Where connections go now (`127.0.0.1:port` of the gateway). */
  target: string;
  /** Destroys every open connection now. */
  cutAll(): void;
  /** Writes raw bytes to every agent connection, as if the gateway sent them (a forged frame). */
  injectToAgent(bytes: Buffer): void;
  /** Destroys the connection that carries more than `bytes` more bytes from the agent (once). */
  cutAfterUpload(bytes: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts a relay to `gatewayUrl`. */
export async function startRelay(gatewayUrl: string): Promise<Relay> {
  const sockets = new Set<net.Socket>();
  const clients = new Set<net.Socket>();
  let cut: { left: number; done: () => void } | null = null;
  const relay: Relay = {
    url: '',
    target: new URL(gatewayUrl).host,
    cutAll: () => {
      for (const s of sockets) s.destroy();
    },
    injectToAgent: (bytes) => {
      for (const s of clients) s.write(bytes);
    },
    cutAfterUpload: (bytes) => new Promise((resolve) => (cut = { left: bytes, done: resolve })),
    close: () =>
      new Promise((resolve) => {
        relay.cutAll();
        server.close(() => resolve());
      }),
  };
  const server = net.createServer((client) => {
    const [host, port] = relay.target.split(':') as [string, string];
    const upstream = net.connect(Number(port), host);
    sockets.add(client);
    sockets.add(upstream);
    clients.add(client);
    const drop = (): void => {
      clients.delete(client);
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('data', (chunk: Buffer) => {
      const c = cut;
      if (c !== null) {
        c.left -= chunk.length;
        if (c.left < 0) {
          // Half of this chunk goes through: the gateway sees a frame cut in the middle.
          upstream.write(chunk.subarray(0, Math.floor(chunk.length / 2)));
          cut = null;
          drop();
          c.done();
          return;
        }
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    client.on('close', drop);
    upstream.on('close', drop);
    client.on('error', drop);
    upstream.on('error', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  (relay as { url: string }).url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return relay;
}
