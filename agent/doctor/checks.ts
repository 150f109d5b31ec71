/**
 * `outpost doctor` and the tray's diagnostics window: every self-check, and for each failure what is
 * wrong and the one command that fixes it. One registry of checks, run in order by `runDoctor`;
 * the CLI and the control API (`GET /v1/diagnostics`) both call it with their own `DoctorContext`.
 * A check that throws becomes a failed check naming the error: the doctor itself never stops halfway.
 */
import { X509Certificate } from 'node:crypto';
import type { DoctorCheck, DoctorReport } from '../../shared/schema/control.js';
import type { AgentProbe, DoctorContext } from './context.js';

/** Clocks further apart than this break certificate validity and signed policy timestamps. */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

/** One check: its results (a check over several stores reports one line per store). */
export interface DoctorCheckDefinition {
  readonly id: string;
  readonly title: string;
  run(run: DoctorRun): Promise<readonly Omit<DoctorCheck, 'title'>[] | Omit<DoctorCheck, 'title'>>;
}

/** The context, with the agent's status and the gateway's answer read once per run and shared by the checks. */
export interface DoctorRun {
  readonly ctx: DoctorContext;
  agent(): Promise<AgentProbe>;
  /** The gateway's answer to a plain GET: its Date header, or why it did not answer; null when none is configured. */
  gateway(): Promise<GatewayProbe | null>;
  /** `outpost ARGS`, with the `--config` this run used (a fix must act on the same agent). */
  command(args: string, options?: { readonly admin?: boolean }): string;
}

/** The gateway as seen from here. */
export type GatewayProbe = { readonly reachable: true; readonly status: number; readonly date: number | null } | { readonly reachable: false; readonly reason: string };

function once<T>(load: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | null = null;
  return () => (value ??= load());
}

const ok = (id: string, detail: string): Omit<DoctorCheck, 'title'> => ({ id, outcome: 'ok', detail, fix: null });

/** The command that sets the clock from the network, per OS. */
function clockFix(platform: NodeJS.Platform): string {
  if (platform === 'darwin') return 'sudo sntp -sS time.apple.com';
  if (platform === 'win32') return 'w32tm /resync /force';
  return 'sudo timedatectl set-ntp true';
}

const agentCheck: DoctorCheckDefinition = {
  id: 'agent',
  title: 'the agent is running and answers on its control API',
  async run(r) {
    const probe = await r.agent();
    if (probe.status === null) return { id: 'agent', outcome: 'fail', detail: probe.reason, fix: r.command('start') };
    const s = probe.status;
    return ok('agent', `Outpost ${s.version} (pid ${s.pid}) since ${s.startedAt}, proxy ${s.proxy.address}, policy "${s.policy.name}" v${s.policy.version}`);
  },
};

const degradedCheck: DoctorCheckDefinition = {
  id: 'agent-health',
  title: 'the agent reports nothing degraded',
  async run(r) {
    const probe = await r.agent();
    if (probe.status === null) return { id: 'agent-health', outcome: 'skip', detail: 'no agent to ask', fix: null };
    const s = probe.status;
    const out: Omit<DoctorCheck, 'title'>[] = [];
    if (s.audit.degraded) out.push({ id: 'agent-health:audit', outcome: 'fail', detail: `the audit log is degraded: ${s.audit.reason ?? 'unknown reason'}`, fix: null });
    if (s.ca.coverage.uncovered.length > 0) {
      out.push({ id: 'agent-health:ca-coverage', outcome: 'fail', detail: `the CA cannot sign for ${s.ca.coverage.uncovered.join(', ')} (${s.ca.coverage.reason ?? 'not covered'}): those hosts are refused`, fix: null });
    }
    if (s.gate.degraded && s.gate.last !== null) out.push({ id: 'agent-health:gate', outcome: 'warn', detail: `the gate failed internally at ${s.gate.last.at} (${s.gate.last.stage}): ${s.gate.last.message}`, fix: null });
    if (out.length === 0 && s.degraded.length > 0) out.push({ id: 'agent-health', outcome: 'warn', detail: s.degraded.join('; '), fix: null });
    return out.length > 0 ? out : ok('agent-health', 'nothing degraded');
  },
};

const caCheck: DoctorCheckDefinition = {
  id: 'ca',
  title: 'the CA certificate exists and is valid now',
  async run(r) {
    const cert = await r.ctx.caCertificate();
    const fleet = r.ctx.config.ca.mode === 'fleet';
    if (cert === null) {
      return {
        id: 'ca',
        outcome: 'fail',
        detail: fleet ? 'no organisation root yet: this device is not enrolled' : `no CA yet in ${r.ctx.config.home}: the agent makes it on first start`,
        fix: fleet ? r.command('enroll --gateway URL --token TOKEN') : r.command('start'),
      };
    }
    const x = new X509Certificate(cert.pem);
    const now = r.ctx.now();
    if (now < Date.parse(x.validFrom)) {
      return { id: 'ca', outcome: 'fail', detail: `the CA is not valid before ${x.validFrom}: this machine's clock is behind`, fix: clockFix(process.platform) };
    }
    if (now > Date.parse(x.validTo)) {
      return { id: 'ca', outcome: 'fail', detail: `the CA expired on ${x.validTo}`, fix: fleet ? null : r.command('ca rotate') };
    }
    return ok('ca', `${cert.path}, valid until ${x.validTo}`);
  },
};

const trustCheck: DoctorCheckDefinition = {
  id: 'ca-trust',
  title: 'the CA is trusted in every trust store',
  async run(r) {
    const cert = await r.ctx.caCertificate();
    if (cert === null) return { id: 'ca-trust', outcome: 'skip', detail: 'no CA certificate yet (see the CA check)', fix: null };
    const stores = await r.ctx.trustStores();
    if (stores.length === 0) return { id: 'ca-trust', outcome: 'warn', detail: 'no trust store found on this system', fix: null };
    const probe = await r.agent();
    const retrust = probe.status?.ca.retrust ?? null;
    const out: Omit<DoctorCheck, 'title'>[] = [];
    for (const store of stores) {
      const id = `ca-trust:${store.id}`;
      let trusted: boolean;
      try {
        trusted = await store.isTrusted(cert);
      } catch (err) {
        out.push({ id, outcome: 'fail', detail: `cannot read ${store.description}: ${(err as Error).message}`, fix: null });
        continue;
      }
      if (trusted) {
        out.push(ok(id, `trusted in ${store.description}`));
        continue;
      }
      // The agent's own re-trust names the exact command when it could not finish a store itself.
      const pending = retrust?.pending.some((p) => p.store === store.id) === true && retrust.command !== null;
      const system = !store.id.startsWith('nss:');
      const fix = pending ? (retrust.command as string) : system ? r.command('ca trust', { admin: true }) : r.command('ca trust --user-only');
      out.push({ id, outcome: 'fail', detail: `not trusted in ${store.description}: clients reading it refuse the agent's certificates`, fix });
    }
    return out;
  },
};

const proxyCheck: DoctorCheckDefinition = {
  id: 'system-proxy',
  title: 'the system proxy sends AI hosts to the agent (PAC)',
  async run(r) {
    const proxy = await r.ctx.systemProxy();
    if (proxy === null) return { id: 'system-proxy', outcome: 'skip', detail: 'no system proxy settings to check on this system (use outpost env / outpost run)', fix: null };
    if (proxy.applied) return ok('system-proxy', proxy.detail);
    return { id: 'system-proxy', outcome: 'warn', detail: `browsers and desktop apps do not use the agent: ${proxy.detail}`, fix: r.command('proxy enable') };
  },
};

const keychainCheck: DoctorCheckDefinition = {
  id: 'keychain',
  title: 'the OS keychain holds the CA key and provider secrets',
  async run(r) {
    try {
      const keychain = await r.ctx.keychain();
      if (keychain.backend === 'file') return { id: 'keychain', outcome: 'warn', detail: `keys are in files, weaker than the OS keychain: ${keychain.description}`, fix: null };
      return ok('keychain', keychain.description);
    } catch (err) {
      return { id: 'keychain', outcome: 'fail', detail: (err as Error).message, fix: null };
    }
  },
};

const gatewayCheck: DoctorCheckDefinition = {
  id: 'gateway',
  title: 'the central gateway answers',
  async run(r) {
    const url = r.ctx.config.gateway.url;
    const probe = await r.gateway();
    if (url === null || probe === null) return { id: 'gateway', outcome: 'skip', detail: 'standalone: no gateway configured', fix: null };
    if (!probe.reachable) return { id: 'gateway', outcome: 'fail', detail: `${url} does not answer: ${probe.reason} (check the network, a VPN, or gateway.url in the agent config)`, fix: null };
    return ok('gateway', `${url} answers (HTTP ${probe.status})`);
  },
};

const clockCheck: DoctorCheckDefinition = {
  id: 'clock',
  title: "this machine's clock agrees with the gateway's",
  async run(r) {
    const probe = await r.gateway();
    if (probe === null || !probe.reachable || probe.date === null) return { id: 'clock', outcome: 'skip', detail: 'no gateway clock to compare with', fix: null };
    const skew = r.ctx.now() - probe.date;
    const seconds = Math.round(Math.abs(skew) / 1000);
    if (Math.abs(skew) > MAX_CLOCK_SKEW_MS) {
      return { id: 'clock', outcome: 'fail', detail: `this clock is ${seconds} s ${skew > 0 ? 'ahead of' : 'behind'} the gateway's: certificates and signed policies may be refused`, fix: clockFix(process.platform) };
    }
    return ok('clock', `within ${seconds} s of the gateway's`);
  },
};

const pinnedCheck: DoctorCheckDefinition = {
  id: 'pinned-apps',
  title: 'no app rejects the agent (certificate pinning)',
  async run(r) {
    const probe = await r.agent();
    if (probe.status === null) return { id: 'pinned-apps', outcome: 'skip', detail: 'no agent to ask', fix: null };
    const pins = probe.status.engine.pinnedClients;
    if (pins.length === 0) return ok('pinned-apps', 'none seen');
    return {
      id: 'pinned-apps',
      outcome: 'warn',
      detail: `${pins.map((p) => `${p.client} pins its certificate for ${p.host}`).join('; ')}: their connections are tunnelled ungoverned or refused, as policy interception.pinnedClients says`,
      fix: null,
    };
  },
};

const managedCheck: DoctorCheckDefinition = {
  id: 'managed-config',
  title: 'the managed configuration (pushed by IT) is in force',
  async run(r) {
    const managed = r.ctx.config.managed ?? null;
    if (managed === null) return { id: 'managed-config', outcome: 'skip', detail: 'no managed configuration on this machine', fix: null };
    return ok('managed-config', `${managed.file} sets ${managed.fields.join(', ')}`);
  },
};

/** Every check, in the order they print. */
export const DOCTOR_CHECKS: readonly DoctorCheckDefinition[] = [agentCheck, degradedCheck, managedCheck, caCheck, trustCheck, proxyCheck, keychainCheck, gatewayCheck, clockCheck, pinnedCheck];

async function probeGateway(ctx: DoctorContext): Promise<GatewayProbe | null> {
  const url = ctx.config.gateway.url;
  if (url === null) return null;
  try {
    const res = await ctx.fetch(url);
    await res.body?.cancel();
    const date = res.headers.get('date');
    return { reachable: true, status: res.status, date: date === null ? null : Date.parse(date) };
  } catch (err) {
    const cause = (err as Error & { cause?: Error }).cause;
    return { reachable: false, reason: cause?.message ?? (err as Error).message };
  }
}

/** Runs every check; `checks` replaces the registry (tests). */
export async function runDoctor(ctx: DoctorContext, checks: readonly DoctorCheckDefinition[] = DOCTOR_CHECKS): Promise<DoctorReport> {
  const configFlag = ctx.config.source === null ? '' : ` --config ${quoteArg(ctx.config.source)}`;
  const run: DoctorRun = {
    ctx,
    agent: once(() => ctx.agent()),
    gateway: once(() => probeGateway(ctx)),
    command: (args, options = {}) => {
      const admin = options.admin === true && process.platform !== 'win32' && process.getuid?.() !== 0;
      return `${admin ? 'sudo ' : ''}outpost ${args}${configFlag}`;
    },
  };
  const results: DoctorCheck[] = [];
  for (const check of checks) {
    try {
      const out = await check.run(run);
      for (const one of Array.isArray(out) ? out : [out]) results.push({ ...one, title: check.title });
    } catch (err) {
      results.push({ id: check.id, title: check.title, outcome: 'fail', detail: `the check itself failed: ${(err as Error).message}`, fix: null });
    }
  }
  return { ok: results.every((c) => c.outcome !== 'fail'), at: new Date(ctx.now()).toISOString(), checks: results };
}

function quoteArg(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}
