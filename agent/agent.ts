/**
 * The composition root: wires config, policy, CA, proxy, gate and audit, and owns start/stop.
 * Each part is built from the resolved config; nothing here knows a part's internals.
 */
import fs from 'node:fs/promises';
import type { ResolvedAgentConfig } from './config/load.js';
import { loadPolicyFile } from './policy/load.js';
import { defaultPolicy } from '../shared/policy/default-policy.js';
import type { Policy } from '../shared/schema/policy.js';

/** A running agent. */
export interface RunningAgent {
  readonly config: ResolvedAgentConfig;
  readonly policy: Policy;
  /** Lines for the console: where the proxy, CA and control API are. */
  describe(): string[];
  stop(): Promise<void>;
}

/** Starts the agent described by `config`. */
export async function startAgent(config: ResolvedAgentConfig): Promise<RunningAgent> {
  await fs.mkdir(config.home, { recursive: true, mode: 0o700 });
  const policy = config.policyFile === null ? defaultPolicy() : await loadPolicyFile(config.policyFile);
  return {
    config,
    policy,
    describe: () => [`outpost: policy "${policy.name}" v${policy.version}, home ${config.home}`],
    stop: async () => {},
  };
}
