/**
 * The gateway core end to end: the real interception engine (test CA, real TLS, sockets on port 0)
 * with the real Gate in front of a fake provider, and SDK clients through the proxy.
 */
import { createGate, type GateDeps, type OutpostGate } from '../../../agent/pipeline/gate.js';
import type { AuditEntry } from '../../../shared/schema/audit.js';
import { policy, type PolicyInput } from '../../../shared/schema/policy.js';
import { startWorld, type ProxyWorld, type WorldOptions } from '../proxy/harness.js';

/** A running engine + gate + fake provider. */
export interface GatewayWorld {
  readonly world: ProxyWorld;
  readonly gate: OutpostGate;
  readonly audit: AuditEntry[];
  /** `http://127.0.0.1:PORT`. */
  readonly proxyUrl: string;
  /** The CA clients must trust (the test CA issues the agent's leaves). */
  readonly caPem: string;
  close(): Promise<void>;
}

/** Hosts the engine intercepts in these tests. */
export const HOSTS = ['api.openai.com', 'api.anthropic.com', 'generativelanguage.googleapis.com', 'api.mistral.ai', '*.openai.azure.com'];

/**
 * Starts the world with `input` as the policy; `deps` replaces parts of the gate (a keychain that
 * rejects, an audit sink that throws, detectors of the test's own).
 */
export async function startGatewayWorld(
  input: Partial<PolicyInput>,
  secrets: Record<string, string> = {},
  engine: Omit<WorldOptions, 'hosts' | 'gate'> = {},
  deps: Partial<Omit<GateDeps, 'policy' | 'identity'>> = {},
): Promise<GatewayWorld> {
  const audit: AuditEntry[] = [];
  const gate = createGate({
    policy: policy.parse({ version: 1, name: 'e2e', interception: { hosts: HOSTS }, ...input }),
    audit: { record: (e) => audit.push(e) },
    secrets: { resolve: async (ref) => secrets[ref] ?? null },
    identity: { device: 'dev-e2e', user: 'jane@acme.example' },
    ...deps,
  });
  const world = await startWorld({ ...engine, hosts: HOSTS, gate: () => gate });
  return {
    world,
    gate,
    audit,
    proxyUrl: world.engine.url,
    caPem: world.ca.caPem,
    close: () => world.close(),
  };
}

/** Waits until `check` holds (polling the event loop, not a timed assertion). */
export async function until(check: () => boolean, what: string, limit = 2000): Promise<void> {
  for (let i = 0; i < limit; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`gave up waiting for ${what}`);
}
