/**
 * What the self-checks read, injected: the CLI builds it from the config and the running agent's
 * control API, the control API (`GET /v1/diagnostics`) from the agent's own in-process status, tests
 * from fakes of the one part they are about. The checks themselves live in `checks.ts`.
 */
import type { ResolvedAgentConfig } from '../config/load.js';
import type { AgentStatus } from '../../shared/schema/control.js';
import type { TrustStore, TrustedCert } from '../ca/trust/types.js';
import { trustStores } from '../ca/trust/index.js';
import { trustedCert } from '../ca/trust/types.js';
import { RootAuthority } from '../ca/root-authority.js';
import { FleetAuthority } from '../ca/fleet-authority.js';
import { readFileOrNull } from '../system/files.js';
import { readRuntimeInfo } from '../control/runtime.js';
import { readControlToken } from '../control/token.js';
import { agentStatus } from '../../shared/schema/control.js';
import { CommandError } from '../system/commands.js';
import { openKeychain, type Keychain } from '../system/keychain.js';
import { detectProxyAdapter, SystemProxy } from '../system/proxy/system-proxy.js';
import { pacUrlFor } from '../system/proxy/pac-url.js';

/** The running agent as the checks see it: its status, or why none answered. */
export type AgentProbe = { readonly status: AgentStatus } | { readonly status: null; readonly reason: string };

/** The system proxy as the checks see it (`outpost proxy status`). */
export interface SystemProxyProbe {
  /** True when the OS sends traffic to our PAC. */
  readonly applied: boolean;
  /** What is configured now, in words. */
  readonly detail: string;
}

/** Everything a check may read. */
export interface DoctorContext {
  readonly config: ResolvedAgentConfig;
  /** The running agent's status. */
  agent(): Promise<AgentProbe>;
  /** The CA certificate clients must trust (standalone root or organisation root); null when none exists yet. */
  caCertificate(): Promise<TrustedCert | null>;
  /** The trust stores of this machine. */
  trustStores(): Promise<TrustStore[]>;
  /** Opens the keychain the agent uses for `home`. */
  keychain(): Promise<Keychain>;
  /** The system proxy; null where this OS has no adapter (or none is wired in). */
  systemProxy(): Promise<SystemProxyProbe | null>;
  /** Plain HTTP(S) GET for the gateway check. */
  fetch(url: string): Promise<Response>;
  now(): number;
}

/** Reads the running agent's status through its control API (the CLI's view). */
export async function probeAgentOverControl(home: string): Promise<AgentProbe> {
  const running = await readRuntimeInfo(home);
  if (running === null) return { status: null, reason: `no agent is running with home ${home}` };
  const token = await readControlToken(home);
  if (token === null) return { status: null, reason: `the control token of ${home} cannot be read` };
  try {
    const res = await fetch(`${running.controlUrl}/v1/status`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) });
    if (!res.ok) return { status: null, reason: `the control API at ${running.controlUrl} answered ${res.status}` };
    return { status: agentStatus.parse(await res.json()) };
  } catch (err) {
    return { status: null, reason: `the control API at ${running.controlUrl} does not answer: ${(err as Error).message}` };
  }
}

/** The CA certificate of `config`, read from its file without creating anything. */
export async function readCaCertificate(config: ResolvedAgentConfig): Promise<TrustedCert | null> {
  const file = config.ca.mode === 'standalone' ? RootAuthority.certPath(config.home) : FleetAuthority.orgRootPath(config.home);
  const pem = await readFileOrNull(file);
  return pem === null ? null : trustedCert(pem, file, config.home);
}

/**
 * The system proxy against the agent's PAC; null where this system has none (no adapter, or its
 * tool is not installed: a server without a desktop).
 */
export async function probeSystemProxy(config: ResolvedAgentConfig): Promise<SystemProxyProbe | null> {
  const adapter = detectProxyAdapter();
  if (adapter === null) return null;
  try {
    const status = await new SystemProxy(adapter, config.home).status(await pacUrlFor(config));
    return { applied: status.applied, detail: `${status.description}: ${status.detail}` };
  } catch (err) {
    // The command could not even start (gsettings absent): nothing to check here.
    if (err instanceof CommandError) return null;
    throw err;
  }
}

/** The default context: real stores, keychain and network; `overrides` replace any part. */
export function doctorContext(config: ResolvedAgentConfig, overrides: Partial<Omit<DoctorContext, 'config'>> = {}): DoctorContext {
  return {
    config,
    agent: () => probeAgentOverControl(config.home),
    caCertificate: () => readCaCertificate(config),
    trustStores: () => trustStores(),
    keychain: () => openKeychain({ home: config.home, mode: config.ca.keyStore }),
    systemProxy: () => probeSystemProxy(config),
    fetch: (url) => fetch(url, { signal: AbortSignal.timeout(10_000), redirect: 'manual' }),
    now: () => Date.now(),
    ...overrides,
  };
}
