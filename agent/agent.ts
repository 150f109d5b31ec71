/**
 * The composition root: wires config, policy, CA, store, gate, proxy and control API, and owns
 * start and stop. Each part is built from the resolved config; nothing here knows a part's insides.
 *
 *   store ──► policy in force ──► CA (root covers the policy's hosts) ──► gate (core + audit sink)
 *                                                                      └─► proxy engine ──► control API
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import type { ResolvedAgentConfig } from './config/load.js';
import { openCertificateAuthority, type CertificateAuthority } from './ca/certificate-authority.js';
import { describeCertificate } from './ca/root-authority.js';
import { startControlServer, type ControlServer } from './control/server.js';
import { AgentMetrics } from './control/metrics.js';
import { ensureControlToken } from './control/token.js';
import { readActivity } from './control/activity.js';
import { readBudgets } from './control/budgets.js';
import { ControlEvents } from './control/events.js';
import { PauseState } from './control/pause.js';
import { FleetInventory } from './sync/fleet-inventory.js';
import { processOwnersForThisOs, type ProcessOwners } from './system/process-owner/process-owners.js';
import { InventoryEnforcement } from './system/inventory/enforcement.js';
import { machineRoots } from './system/inventory/locations.js';
import { scanInventory } from './system/inventory/scan.js';
import { SeenApps } from './system/inventory/seen-apps.js';
import { recentApps } from './audit/records.js';
import { runPlan } from './system/commands.js';
import type { DeviceInventory } from '../shared/schema/inventory.js';
import { KeySelection } from './control/key-selection.js';
import { exportDiagnostics } from './control/diagnostics.js';
import { doctorContext } from './doctor/context.js';
import { runDoctor } from './doctor/checks.js';
import { removeRuntimeInfo, writeRuntimeInfo } from './control/runtime.js';
import { originalDestinationUnavailable } from './system/original-dst.js';
import { releaseRedirect } from './system/transparent-redirect.js';
import { createLogger, type Logger } from './log.js';
import { createGate, type OutpostGate } from './pipeline/gate.js';
import { initialPolicy, keep, watchPolicyFile, type PolicyInForce } from './policy/source.js';
import { startProxy, type ProxyEngine } from './proxy/engine.js';
import { createSecretResolver } from './secrets/resolve.js';
import { openAgentStore, type AgentStore } from './agent-store.js';
import { openDatabase, type Db } from './store/database.js';
import { loadIdentity, type Identity } from './system/identity.js';
import { startSystemProxyUpkeep } from './system/proxy/upkeep.js';
import { AGENT_VERSION } from './version.js';
import type { AuditEntry } from '../shared/schema/audit.js';
import type { AgentStatus, DoctorReport } from '../shared/schema/control.js';
import type { Policy } from '../shared/schema/policy.js';
import { gatewayStartup } from './sync/startup.js';
import { GatewaySync } from './sync/gateway-sync.js';
import { FleetCommands } from './sync/fleet-commands.js';
import { gatewayRoute } from './sync/gateway-route.js';
import type { BackoffOptions } from './sync/backoff.js';
import type { IntermediateSigner } from './ca/fleet-authority.js';
import { gatewaySource, loadKeptSignedPolicy } from './sync/signed-policy.js';

/** A running agent. */
export interface RunningAgent {
  readonly config: ResolvedAgentConfig;
  readonly identity: Identity;
  readonly proxy: ProxyEngine;
  readonly ca: CertificateAuthority;
  readonly store: AgentStore;
  readonly gate: OutpostGate;
  readonly control: ControlServer;
  /** The sync client, when the device is enrolled with a gateway. */
  readonly sync: GatewaySync | null;
  /** The policy in force now. */
  policy(): PolicyInForce;
  /** Validates-then-applies a new policy (what a file change or the sync client calls). */
  applyPolicy(policy: Policy, source: string): Promise<void>;
  status(): AgentStatus;
  /** Finds which process opened each intercepted connection (Linux), or null on other systems. */
  readonly processOwners: ProcessOwners | null;
  /** The last inventory scan of this device (null before the first finished). */
  inventory(): DeviceInventory | null;
  /** Scans the device again, applies what it finds to enforcement, and reports it to the gateway. */
  scanInventory(): Promise<DeviceInventory>;
  /** Lines for the console: where the proxy, CA and control API are, and how to use them. */
  describe(): string[];
  stop(): Promise<void>;
}

/** Options for embedding the agent (tests, `outpost demo`). */
export interface StartOptions {
  readonly logger?: Logger;
  /** The user's home for NSS databases (tests keep them in a temp folder). */
  readonly userHome?: string;
  /** Sync client timings (tests shorten the reconnect backoff and the acknowledgement timeout). */
  readonly sync?: { readonly backoff?: BackoffOptions; readonly ackTimeoutMs?: number };
  /** Scan for AI apps and MCP servers at start (default true; `userHome` is where it looks). */
  readonly inventoryScan?: boolean;
}

/** Starts the agent described by `config`. */
export async function startAgent(config: ResolvedAgentConfig, options: StartOptions = {}): Promise<RunningAgent> {
  const log = options.logger ?? createLogger(config.log.level);
  const startedAt = new Date().toISOString();
  await fs.mkdir(config.home, { recursive: true, mode: 0o700 });
  const identity = await loadIdentity(config.home);

  // Enrolled (or enrolling now with the managed token): the gateway's signed policy supersedes the
  // local file, which serves only until the first signed policy arrives.
  const gatewayStart = await gatewayStartup(config, log);
  const enrollment = gatewayStart.enrollment;
  const managed = enrollment !== null || config.gateway.url !== null;
  const store = openAgentStore(config, { logger: log, uploads: managed });
  const kept = enrollment === null ? null : loadKeptSignedPolicy(enrollment.gatewayKey, store.state, log);
  // Administrators' commands in force (revoked keys, kill switch, this device revoked), kept across restarts.
  let commandsProblem: string | null = null;
  const fleetCommands =
    enrollment === null
      ? null
      : await FleetCommands.load(config.home).catch((err: unknown) => {
          commandsProblem = (err as Error).message;
          return null;
        });
  // The organisation's app and MCP server decisions: the gateway's when it sent any, else the local policy's.
  let inventoryProblem: string | null = null;
  const fleetInventory =
    enrollment === null
      ? null
      : await FleetInventory.load(config.home).catch((err: unknown) => {
          inventoryProblem = (err as Error).message;
          return null;
        });
  let localInventory: DeviceInventory | null = null;
  // AI apps seen in traffic since start (and in the audit log's last 30 days, from the scan).
  const seenApps = new SeenApps();
  const currentInventory = (): DeviceInventory | null => (localInventory === null ? null : { ...localInventory, apps: [...localInventory.apps.filter((a) => a.source !== 'traffic'), ...seenApps.list()] });
  let inventoryRules = new InventoryEnforcement({ pending: 'allow', items: [] }, null);
  const enforced = (p: Policy): Policy => {
    inventoryRules = new InventoryEnforcement(fleetInventory?.decisions ?? p.inventory, localInventory);
    const withCommands = fleetCommands?.overlay(p) ?? p;
    // Denied remote MCP servers (and undecided ones under "block") are blocked hosts: CONNECTs refused.
    const mcpHosts = inventoryRules.blockedMcpHosts();
    return mcpHosts.length === 0 ? withCommands : { ...withCommands, interception: { ...withCommands.interception, blockedHosts: [...new Set([...withCommands.interception.blockedHosts, ...mcpHosts])] } };
  };
  // Gateway mode: virtual keys whose provider key the gateway holds go through it.
  const gatewayLink = enrollment !== null && gatewayStart.tls !== null ? gatewayRoute(enrollment.gatewayUrl, enrollment.credential, gatewayStart.tls) : null;
  let inForce: PolicyInForce =
    kept !== null ? { policy: kept.policy, source: `${gatewaySource(kept.version)}, kept offline`, refused: null } : await initialPolicy(config.policyFile, managed, store.state, log);
  store.audit.setFailMode(inForce.policy.failMode);

  const ca = await openCertificateAuthority(config, inForce.policy, options.userHome === undefined ? {} : { userHome: options.userHome });
  const metrics = new AgentMetrics();
  metrics.watch({ spool: () => store.audit.health(), certificateCache: () => ca.source.cachedHosts });
  const rememberPinned = (entry: AuditEntry): void => {
    try {
      store.state.addPinnedHost(entry.host, entry.app, entry.rules[0]?.explanation ?? 'pinned client');
    } catch (err) {
      log.warn({ host: entry.host, err: (err as Error).message }, 'cannot remember a pinned host');
    }
  };
  // Declared before the gate that feeds it; made once the status it reports can be computed.
  let controlEvents: ControlEvents | null = null;
  let sync: GatewaySync | null = null;
  const auditWritten = (): void => sync?.auditWritten();
  const sink = {
    record(entry: AuditEntry): void {
      store.audit.record(entry);
      // Uploaded once committed (the sync client batches whatever is durable by then).
      if (sync !== null) store.audit.whenDurable(auditWritten);
      metrics.observe(entry);
      // An AI app speaking for the first time goes to the gateway at once (pending "allow" = allowed and reported).
      if (entry.kind === 'request' && seenApps.note({ userAgent: entry.app, process: entry.process ?? null }) && localInventory !== null) {
        const inventory = currentInventory();
        if (inventory !== null) sync?.reportInventory(inventory);
      }
      controlEvents?.recorded(entry);
      // A client that pins certificates is remembered across runs, for status and the administrator.
      if (entry.kind === 'connect' && entry.rules[0]?.kind === 'pinned-client') rememberPinned(entry);
    },
    // Group commit: the engine ends a governed response only once its record is committed.
    whenDurable(callback: () => void): void {
      store.audit.whenDurable(callback);
    },
  };
  // Fail-closed auditing lives in the gate: while the log cannot record, requests are refused and
  // the refusals themselves recorded (queued in the log's memory until the store recovers).
  // The tray's picked virtual key (read by the gate per request; the core checks it still applies).
  let keySelection: KeySelection | null = null;
  const gate = createGate({
    selectedKey: () => keySelection?.picked ?? null,
    appRefusal: (userAgent, owner) => inventoryRules.appRefusal(userAgent, owner),
    appsRestricted: () => inventoryRules.restrictsApps,
    policy: enforced(inForce.policy),
    audit: sink,
    auditHealth: store.audit,
    secrets: createSecretResolver(ca.keychain),
    identity,
    // A fleet budget refused for want of this device's grant: the sync client asks the gateway for more.
    askGrant: (shortfall) => sync?.budgets?.ask(shortfall) ?? null,
    gatewayRoute: () => (fleetCommands?.state.deviceRevoked === true ? null : (gatewayLink?.route ?? null)),
    onFailure: (f) => {
      metrics.gateFailure(f.stage, f.failMode);
      log.error({ stage: f.stage, failMode: f.failMode, err: f.message }, 'gate internal failure; the request was decided by the fail mode');
    },
  });
  const saved = store.state.loadCounters();
  if (saved !== null) {
    gate.importState(saved.document as ReturnType<OutpostGate['exportState']>);
    // Spend recorded after the last save (a kill -9 between saves) is in the records after throughSeq.
    try {
      gate.replay(store.audit.recordsAfter(saved.throughSeq));
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'cannot replay the spend recorded after the last counter save');
    }
  }
  store.persistCounters(() => gate.exportState());
  store.startRetention(() => inForce.policy.audit.retentionDays);

  // Pausing from the tray, where policy allows: new connections to AI hosts are tunnelled until it ends.
  keySelection = new KeySelection(store.state, () => gate.governor);
  const pauseState = new PauseState((paused) => {
    log.info({ paused: paused ?? 'resumed' }, paused === null ? 'interception resumed' : 'interception paused');
    controlEvents?.checkStatus();
    sync?.statusChanged();
  });
  const processOwners = processOwnersForThisOs();
  const proxy = await startProxy({
    config,
    gate,
    paused: () => pauseState.active() || fleetCommands?.paused === true,
    certificates: ca.source,
    pacHosts: () => inForce.policy.interception,
    processOwners,
    onError: (err, where) => log.error({ where, err: err.message }, 'proxy internal error'),
  });

  const applyPolicy = async (policy: Policy, source: string): Promise<void> => {
    const change = await ca.applyPolicy(policy);
    gate.setPolicy(enforced(policy));
    store.audit.setFailMode(policy.failMode);
    keep(store.state, policy, source, log);
    inForce = { policy, source, refused: null };
    log.info({ name: policy.name, version: policy.version, ca: change }, 'policy applied');
  };
  let unwatch =
    config.policyFile === null || kept !== null
      ? (): void => {}
      : watchPolicyFile(
          config.policyFile,
          (p) => applyPolicy(p, config.policyFile as string),
          (err) => {
            inForce = { ...inForce, refused: err.message };
            log.error({ problems: err.problems }, 'the new policy is invalid; keeping the last good one');
          },
          log,
        );

  const status = (): AgentStatus => {
    const s = proxy.stats();
    const audit = store.audit.statusSection();
    const degraded: string[] = [];
    if (audit.degraded) degraded.push(`audit: ${audit.reason ?? 'degraded'}`);
    if (ca.keychain.backend === 'file') degraded.push(`CA key in a file: ${ca.keychain.description}`);
    // A root made while one already existed: its key was not where this start looked (a keychain
    // that did not answer, a fallback that never held it). The new root was re-trusted where the old one was.
    if (ca.root?.opened === 'created' && ca.root.replaced !== null) degraded.push(`the key of the previous CA root could not be read from ${ca.keychain.description}; a new root was made at start`);
    if (inForce.refused !== null) degraded.push('a newer policy was refused; the last good policy is in force');
    if (gatewayStart.problem !== null) degraded.push(`gateway: ${gatewayStart.problem}`);
    if (commandsProblem !== null) degraded.push(`gateway: ${commandsProblem}`);
    if (inventoryProblem !== null) degraded.push(`gateway: ${inventoryProblem}`);
    const gateway = sync?.status() ?? null;
    degraded.push(...(fleetCommands?.describe() ?? []));
    if (gateway?.state === 'revoked' && fleetCommands?.state.deviceRevoked !== true) degraded.push(`gateway: this device was revoked by an administrator (${gateway.lastError ?? ''}); it no longer syncs: policy stays as last received, enroll again to rejoin`);
    if (gateway?.policyRejected) degraded.push(`gateway: signed policy v${gateway.policyRejected.version} was refused (${gateway.policyRejected.reason}); the last good policy is in force`);
    const coverage = ca.coverage();
    if (coverage.uncovered.length > 0) degraded.push(`CA cannot sign for ${coverage.uncovered.join(', ')} (${coverage.reason ?? ''}): requests to them are refused, not passed ungoverned`);
    const retrustCommand = ca.retrustCommand();
    if (retrustCommand !== null) degraded.push(`the CA certificate changed and is not trusted yet in ${ca.pendingTrust().map((p) => p.description).join('; ')}: run ${retrustCommand}`);
    const noOriginal = proxy.transparentPort === null ? null : originalDestinationUnavailable();
    if (noOriginal !== null) degraded.push(`transparent door: ${noOriginal}; redirected connections are routed by SNI/Host alone`);
    const g = gate.health();
    if (g.degraded && g.last !== null) degraded.push(`gate: internal failure at ${g.last.at} (${g.last.stage}: ${g.last.message}); requests fail ${g.last.failMode}`);
    metrics.degraded.set(degraded.length > 0 ? 1 : 0);
    return {
      version: AGENT_VERSION,
      pid: process.pid,
      startedAt,
      proxy: { address: proxy.url, pac: `${proxy.url}/proxy.pac` },
      control: { address: control.url },
      policy: { name: inForce.policy.name, version: inForce.policy.version, source: inForce.source, failMode: inForce.policy.failMode, pauseMinutes: inForce.policy.pause.allowed ? inForce.policy.pause.maxMinutes : null },
      ca: {
        mode: ca.mode,
        caFile: ca.caFile,
        bundleFile: ca.bundleFile,
        keyStore: ca.keychain.backend,
        weakKeyStore: ca.keychain.backend === 'file',
        notAfter: ca.root?.ca.notAfter.toISOString() ?? ca.fleet?.ca?.notAfter.toISOString() ?? null,
        permittedDns: ca.source.issuingCa?.permittedDns ? [...ca.source.issuingCa.permittedDns] : null,
        coverage,
        retrust: { pending: [...ca.pendingTrust()], command: retrustCommand },
      },
      engine: { connections: s.connections, intercepted: s.intercepted, tunnelled: s.tunnelled, blocked: s.blocked, pinnedHosts: [...s.pinnedHosts], pinnedClients: [...s.pinnedClients], bypass: s.bypass, doors: s.doors, http2Sessions: s.http2Sessions },
      transparent: { port: proxy.transparentPort, originalDestination: proxy.transparentPort === null ? null : originalDestinationUnavailable() },
      audit,
      unread: gate.unread(),
      gate: { failures: g.failures, degraded: g.degraded, last: g.last },
      degraded,
      state: pauseState.active() || fleetCommands?.paused === true ? 'paused' : degraded.length > 0 ? 'degraded' : 'protected',
      paused: pauseState.current(),
      gateway,
    };
  };

  // Daily: the OS roots change with system updates (the combined bundle follows them), and a root
  // near expiry is renewed ahead of time and re-trusted.
  const bundleTimer = setInterval(() => {
    ca.maintain().then(
      (change) => {
        if (change !== 'unchanged') log.info({ ca: change }, 'CA root renewed');
      },
      (err: unknown) => log.warn({ err: (err as Error).message }, 'CA upkeep failed'),
    );
  }, 24 * 60 * 60 * 1000);
  bundleTimer.unref();

  controlEvents = new ControlEvents(
    () => {
      const degraded = status().degraded;
      const paused = pauseState.current();
      return { type: 'status', state: paused !== null ? 'paused' : degraded.length > 0 ? 'degraded' : 'protected', degraded, pausedUntil: paused?.until ?? null };
    },
    () => gate.governor,
  );
  const events = controlEvents;
  const token = await ensureControlToken(config.home);
  // A read-only connection for the tray's activity list (WAL: it never blocks the audit writer).
  let activityDb: Db | null = null;
  // `outpost doctor`'s checks against this agent: its own status and keychain, nothing opened twice.
  const diagnose = (): Promise<DoctorReport> => runDoctor(doctorContext(config, { agent: async () => ({ status: status() }), keychain: async () => ca.keychain }));
  const control = await startControlServer(config.control.host, config.control.port, token, {
    // A pending re-trust is re-checked on each status read, so it clears once the user ran the command.
    status: async () => {
      await ca.recheckTrust();
      return status();
    },
    metrics: () => metrics.text(),
    budgets: () => readBudgets(gate.governor, Date.now(), keySelection.current()),
    selectKey: (id) => {
      const picked = keySelection.select(id);
      log.info({ virtualKey: picked ?? 'none' }, picked === null ? 'tray: no virtual key picked' : 'tray: virtual key picked');
      return picked;
    },
    diagnostics: diagnose,
    pause: ({ minutes }) => pauseState.pause(minutes, `user ${identity.user}`, inForce.policy.pause),
    resume: () => pauseState.resume(),
    exportDiagnostics: async () => {
      activityDb ??= openDatabase(store.file, { readOnly: true });
      const report = await diagnose();
      return exportDiagnostics(config.home, { status: status(), diagnostics: report, activity: readActivity(activityDb, { limit: 200 }), settings: config });
    },
    events,
    activity: (query) => {
      activityDb ??= openDatabase(store.file, { readOnly: true });
      return readActivity(activityDb, query);
    },
    rotateCa: async () => {
      await ca.rotate();
      log.info({}, 'CA rotated');
      const now = await ca.trusted();
      return { caFile: ca.caFile, fingerprint256: now ? describeCertificate(now.pem).fingerprint256 : '', pending: [...ca.pendingTrust()], command: ca.retrustCommand() };
    },
  });
  // (After the control API exists: the status names its address.) Status changes reach the tray at once for the audit store's health, within a few seconds otherwise.
  const unsubscribeHealth = store.audit.onHealth(() => events.checkStatus());
  const statusTimer = setInterval(() => {
    events.checkStatus();
    sync?.statusChanged();
  }, 3000);
  statusTimer.unref();
  const systemProxy = await startSystemProxyUpkeep({ home: config.home, pacUrl: `${proxy.url}/proxy.pac`, watchdogSeconds: config.systemProxy.watchdogSeconds, log });
  if (fleetCommands?.state.deviceRevoked === true) log.error({ gateway: enrollment?.gatewayUrl }, 'this device was revoked by an administrator: not syncing; enroll again to rejoin');
  if (enrollment !== null && gatewayStart.tls !== null && fleetCommands?.state.deviceRevoked !== true) {
    sync = new GatewaySync({
      enrollment,
      tls: gatewayStart.tls,
      audit: store.audit,
      state: store.state,
      applyPolicy: (p, source) => applyPolicy(p, source),
      signedVersion: kept?.version ?? null,
      signedAt: kept?.signedAt ?? null,
      deviceStatus: () => {
        const s = status();
        return { caMode: ca.mode, caTrusted: s.ca.retrust.pending.length > 0 ? false : null, paused: s.state === 'paused', degraded: s.degraded.filter((d) => !d.startsWith('gateway: ')) };
      },
      ...(fleetInventory === null
        ? {}
        : {
            inventory: {
              current: currentInventory,
              fleet: fleetInventory,
              changed: async () => {
                gate.setPolicy(enforced(inForce.policy));
                log.info({ items: fleetInventory.decisions?.items.length ?? 0, pending: fleetInventory.decisions?.pending }, 'the organisation\'s app and MCP server decisions applied');
              },
            },
          }),
      ...(fleetCommands === null
        ? {}
        : {
            commands: {
              fleet: fleetCommands,
              changed: async () => {
                gate.setPolicy(enforced(inForce.policy));
                events.checkStatus();
              },
            },
          }),
      onSignedPolicy: () => {
        // The gateway's policy supersedes the local file from now on.
        unwatch();
        unwatch = (): void => {};
      },
      ledger: gate.governor.ledger,
      setRateShare: (share) => gate.governor.setFleetRateShare(share),
      ...(ca.mode === 'fleet' ? { renewCa: (signer: IntermediateSigner) => ca.renewIfDue(signer) } : {}),
      logger: log,
      ...(options.sync ?? {}),
    });
    sync.start();
  }
  await writeRuntimeInfo(config.home, { pid: process.pid, proxyUrl: proxy.url, controlUrl: control.url, caFile: ca.caFile, bundleFile: ca.bundleFile, transparentPort: proxy.transparentPort });
  log.info({ proxy: proxy.url, control: control.url, policy: inForce.policy.name }, 'agent started');

  const scanDevice = async (): Promise<DeviceInventory> => {
    const inventory = await scanInventory({
      roots: machineRoots(process.env, options.userHome ?? os.homedir()),
      run: (plan) => runPlan(plan),
      pathVar: process.env.PATH ?? '',
      seenUserAgents: (() => {
        try {
          return recentApps(store.audit.connection(), new Date(Date.now() - 30 * 86_400_000).toISOString());
        } catch {
          return [];
        }
      })(),
    });
    localInventory = inventory;
    seenApps.add(inventory.apps);
    gate.setPolicy(enforced(inForce.policy));
    const current = currentInventory() ?? inventory;
    sync?.reportInventory(current);
    return current;
  };
  if (options.inventoryScan !== false) {
    // Off the start path: a scan reads config files and asks the package manager.
    void scanDevice().catch((err: unknown) => log.warn({ err: (err as Error).message }, 'inventory scan failed'));
  }

  let stopping: Promise<void> | null = null;
  return {
    processOwners,
    inventory: currentInventory,
    scanInventory: scanDevice,
    config,
    identity,
    proxy,
    ca,
    store,
    gate,
    control,
    get sync() {
      return sync;
    },
    policy: () => inForce,
    applyPolicy,
    status,
    describe: () => [
      `Outpost ${AGENT_VERSION}: policy "${inForce.policy.name}" v${inForce.policy.version} (${inForce.source})`,
      `  proxy        ${proxy.url}   (PAC: ${proxy.url}/proxy.pac)`,
      `  CA           ${ca.caFile}   (key in ${ca.keychain.description})`,
      `  control API  ${control.url}   (token in ${config.home}/control.token)`,
      ...(enrollment === null ? [] : [`  gateway      ${enrollment.gatewayUrl} as ${enrollment.deviceId}${sync === null ? ' (not syncing: see outpost status)' : ''}`]),
      `  audit        ${store.file}`,
      '',
      'Route a shell through it:  eval "$(outpost env)"     one command:  outpost run -- CMD …',
      'Trust the CA for browsers and apps:  outpost ca trust',
    ],
    stop: () =>
      (stopping ??= (async () => {
        unwatch();
        clearInterval(bundleTimer);
        await sync?.stop();
        // Before the listener closes: a redirect must never point at a port nobody listens on, nor the system at a PAC nobody serves.
        if (proxy.transparentPort !== null) await releaseRedirect(proxy.transparentPort);
        await systemProxy.stop();
        await proxy.close();
        await gatewayLink?.dispatcher.close();
        clearInterval(statusTimer);
        pauseState.resume();
        unsubscribeHealth();
        events.closeAll();
        await control.close();
        activityDb?.close();
        await store.close();
        await removeRuntimeInfo(config.home);
        log.info({}, 'agent stopped');
        log.flush();
      })()),
  };
}
