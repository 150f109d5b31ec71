/**
 * A whole agent for tests: `startAgent` on a throwaway home, every port 0, upstream mapped to the
 * fake provider (real hostnames → loopback, trusting the test CA), CA keys in the file store unless a
 * test asks for the keychain. Returns what a test needs to drive real clients through it.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { agentConfig, type AgentConfig } from '../../shared/schema/config.js';
import type { PolicyInput } from '../../shared/schema/policy.js';
import { resolveAgentConfig } from '../../agent/config/load.js';
import { startAgent, type RunningAgent, type StartOptions } from '../../agent/agent.js';
import { createTestCa, type TestCa } from './test-ca.js';
import { startFakeProvider, type FakeProvider } from './fake-provider.js';

/** A running agent with its fake provider. */
export interface TestAgent {
  readonly agent: RunningAgent;
  readonly provider: FakeProvider;
  readonly upstreamCa: TestCa;
  readonly home: string;
  /** The agent's CA (PEM) that clients trust. */
  readonly caPem: string;
  readonly proxyUrl: string;
  /** Stops the agent; the provider and home stay for a restart. */
  stopAgent(): Promise<void>;
  /** Stops everything and removes the home. */
  close(): Promise<void>;
}

/** What a test may set. */
export interface TestAgentOptions {
  /** Written to `<home>/policy.json`; default: the embedded default policy. */
  readonly policy?: PolicyInput;
  /** Config fields merged over the test defaults. */
  readonly config?: Record<string, unknown>;
  /** Reuse a provider (and its CA) across agents. */
  readonly provider?: { provider: FakeProvider; ca: TestCa };
  /** Reuse a home (restart tests). */
  readonly home?: string;
  /** Start options beside the test logger and user home (sync timings, a captured logger). */
  readonly start?: StartOptions;
}

/** Starts an agent wired to a fake provider. */
export async function startTestAgent(options: TestAgentOptions = {}): Promise<TestAgent> {
  const upstreamCa = options.provider?.ca ?? (await createTestCa());
  const provider = options.provider?.provider ?? (await startFakeProvider({ ca: upstreamCa }));
  const home = options.home ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-agent-')));
  if (options.policy) await fs.writeFile(path.join(home, 'policy.json'), JSON.stringify(options.policy));
  const raw = {
    home,
    proxy: { port: 0 },
    control: { port: 0 },
    ca: { keyStore: 'file' },
    policyFile: options.policy ? 'policy.json' : null,
    upstream: { resolve: provider.resolveMap(), caFile: upstreamCa.caFile },
    log: { level: 'silent' },
    ...options.config,
  };
  const config: AgentConfig = agentConfig.parse(raw);
  const resolved = resolveAgentConfig(config, home, null, {});
  const agent = await startAgent(resolved, { logger: pino({ level: 'silent' }), userHome: home, inventoryScan: false, ...options.start });
  const caPem = await fs.readFile(agent.ca.caFile, 'utf8');
  let stopped = false;
  const stopAgent = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await agent.stop();
  };
  return {
    agent,
    provider,
    upstreamCa,
    home,
    caPem,
    proxyUrl: agent.proxy.url,
    stopAgent,
    close: async () => {
      await stopAgent();
      if (!options.provider) {
        await provider.close();
        await upstreamCa.dispose();
      }
      if (!options.home) await fs.rm(home, { recursive: true, force: true });
    },
  };
}
