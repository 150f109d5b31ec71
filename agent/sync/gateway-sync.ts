/**
 * The sync client of an enrolled agent: one `SyncConnection` to the gateway, and the parts that give
 * its messages meaning, each in its own file: signed policy (signed-policy.ts), audit upload with
 * acknowledgements (audit-upload.ts), device status reported up. The agent's composition root
 * builds it when the device is enrolled and tells it when records were written or status changed.
 */
import { EventEmitter } from 'node:events';
import type { Policy } from '../../shared/schema/policy.js';
import type { DeviceInventory } from '../../shared/schema/inventory.js';
import type { FleetInventory } from './fleet-inventory.js';
import { PROTOCOL_V, type AgentMessage, type DeviceStatus, type GatewayMessage } from '../../shared/schema/protocol.js';
import type { GatewaySyncStatus } from '../../shared/schema/control.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { StateStore } from '../store/state.js';
import { AGENT_VERSION } from '../version.js';
import type { BackoffOptions } from './backoff.js';
import type { Enrollment } from './enrollment.js';
import { gatewayAddress } from './gateway-address.js';
import type { GatewayTlsOptions } from './gateway-tls.js';
import { SignedPolicySync } from './signed-policy.js';
import type { FleetCommands } from './fleet-commands.js';
import { FleetBudgets } from './fleet-budgets.js';
import { FleetCaRenewal } from './fleet-ca.js';
import type { IntermediateSigner } from '../ca/fleet-authority.js';
import type { BudgetLedger } from '../../shared/core/budgets.js';
import { AuditUploader } from './audit-upload.js';
import { SyncConnection, type MessageHandlers, type SyncLogger } from './sync-connection.js';

/** What the sync client needs from the agent. */
export interface GatewaySyncOptions {
  readonly enrollment: Enrollment;
  readonly tls: GatewayTlsOptions;
  readonly audit: AuditLog;
  readonly state: StateStore;
  /** Applies a verified signed policy (`RunningAgent.applyPolicy`). */
  readonly applyPolicy: (policy: Policy, source: string) => Promise<void>;
  /** The signed version in force at start (kept in the store), null before the first. */
  readonly signedVersion: number | null;
  /** When the gateway signed that version (ISO 8601), for status. */
  readonly signedAt?: string | null;
  /** The device's status without `policyRejected` (the sync client adds it). */
  readonly deviceStatus: () => Omit<DeviceStatus, 'policyRejected'>;
  readonly logger: SyncLogger;
  readonly backoff?: BackoffOptions;
  /** Audit batches without an acknowledgement are sent again after this long (default 30 s). */
  readonly ackTimeoutMs?: number;
  /** Extra handlers (commands, budgets) registered by their own parts. */
  readonly handlers?: MessageHandlers;
  /** Administrators' commands: kept here, and `changed` re-applies them to the running agent. */
  readonly commands?: { readonly fleet: FleetCommands; readonly changed: () => Promise<void> };
  /** The core's budget ledger: fleet windows go in, this device's spend goes up. */
  readonly ledger?: BudgetLedger;
  /** Sets this device's share of fleet-scoped rate limits (`Governor.setFleetRateShare`). */
  readonly setRateShare?: (share: number) => void;
  /** Fleet CA mode: `CertificateAuthority.renewIfDue`, called over sync when the intermediate is due. */
  readonly renewCa?: (signer: IntermediateSigner) => Promise<boolean>;
  /** Inventory: the device's latest scan goes up on connect; the decisions that come back are kept and applied. */
  readonly inventory?: { readonly current: () => DeviceInventory | null; readonly fleet: FleetInventory; readonly changed: () => Promise<void> };
  /** Called after the first signed policy replaced the local one (the agent stops watching its file). */
  readonly onSignedPolicy?: (version: number) => void;
}

/**
 * A running sync client. Events: `policy` ({ version, outcome }) after each signed policy handled,
 * `ack` (seq) after each acknowledgement, and the connection's own (`connected`, `disconnected`, …).
 */
export class GatewaySync extends EventEmitter {
  readonly connection: SyncConnection;
  readonly policy: SignedPolicySync;
  readonly uploader: AuditUploader;
  readonly budgets: FleetBudgets | null;
  readonly fleetCa: FleetCaRenewal | null;
  private caTimer: NodeJS.Timeout | null = null;
  /** The last share of fleet-scoped rate limits the gateway sent; null before the first. */
  rateShare: { readonly share: number; readonly devices: number } | null = null;
  private lastStatus = '';

  constructor(private readonly options: GatewaySyncOptions) {
    super();
    const { enrollment, logger } = options;
    this.policy = new SignedPolicySync({ key: enrollment.gatewayKey, state: options.state, apply: options.applyPolicy, logger }, options.signedVersion, options.signedAt ?? null);
    let connection: SyncConnection | null = null;
    const send = (m: AgentMessage): boolean => connection?.send(m) ?? false;
    this.uploader = new AuditUploader({ audit: options.audit, send, logger, ...(options.ackTimeoutMs === undefined ? {} : { ackTimeoutMs: options.ackTimeoutMs }) });
    this.budgets = options.ledger === undefined ? null : new FleetBudgets({ ledger: options.ledger, send });
    this.fleetCa = options.renewCa === undefined ? null : new FleetCaRenewal({ renewIfDue: options.renewCa, send, logger });
    const own: MessageHandlers = {
      welcome: (m) => {
        this.lastStatus = JSON.stringify(this.deviceStatus());
        this.uploader.onWelcome(m.maxBatchRecords);
        const inventory = options.inventory?.current() ?? null;
        if (inventory !== null) send({ v: PROTOCOL_V, type: 'inventory', inventory });
        this.budgets?.connected();
        this.checkCa();
      },
      'ca.intermediate': (m) => this.fleetCa?.answered(m),
      'rate.share': (m) => {
        this.rateShare = { share: m.share, devices: m.devices };
        options.setRateShare?.(m.share);
        this.emit('rate', m);
      },
      'budget.state': (m) => {
        this.budgets?.received(m);
        this.emit('budget', m);
      },
      policy: async (m) => {
        const outcome = await this.policy.receive({ version: m.version, document: m.document, signature: m.signature, signedAt: m.signedAt });
        if (outcome === 'applied') {
          options.onSignedPolicy?.(m.version);
          // A policy with a new host needs an intermediate that covers it.
          this.checkCa();
        }
        if (outcome !== 'current') this.reportStatus(true);
        this.emit('policy', { version: m.version, outcome });
      },
      command: async (m) => {
        let error: string | null = null;
        try {
          const fleet = options.commands?.fleet;
          if (fleet === undefined) throw new Error('this agent does not take commands');
          if (await fleet.apply(m)) await options.commands?.changed();
          logger.warn({ id: m.id, action: m.action, scope: m.scope.kind }, 'administrator command applied');
        } catch (err) {
          error = (err as Error).message;
          logger.error({ id: m.id, action: m.action, err: error }, 'an administrator command could not be applied');
        }
        this.connection.send({ v: PROTOCOL_V, type: 'command.result', id: m.id, ok: error === null, error });
        this.reportStatus(false);
        this.emit('command', { id: m.id, ok: error === null });
      },
      'inventory.decisions': async (m) => {
        try {
          if (options.inventory !== undefined && (await options.inventory.fleet.save(m))) await options.inventory.changed();
          this.emit('inventory', m);
        } catch (err) {
          logger.error({ err: (err as Error).message }, 'the organisation\'s app and MCP server decisions could not be applied');
        }
      },
      'audit.ack': (m) => {
        this.uploader.acknowledged(m.seq);
        this.emit('ack', m.seq);
      },
    };
    connection = new SyncConnection({
      address: gatewayAddress(enrollment.gatewayUrl),
      tls: options.tls,
      deviceId: enrollment.deviceId,
      credential: enrollment.credential,
      hello: () => ({ agentVersion: AGENT_VERSION, policyVersion: this.policy.version, lastAckedSeq: options.audit.acknowledgedSeq, status: this.deviceStatus() }),
      handlers: mergeHandlers(own, options.handlers ?? {}),
      logger,
      ...(options.backoff === undefined ? {} : { backoff: options.backoff }),
    });
    connection.on('disconnected', () => {
      this.uploader.disconnected();
      this.fleetCa?.disconnected();
    });
    this.connection = connection;
  }

  start(): void {
    this.connection.start();
    if (this.fleetCa !== null) {
      // Daily, for expiry (a third of the intermediate's life ahead of it).
      this.caTimer = setInterval(() => this.checkCa(), 24 * 60 * 60 * 1000);
      this.caTimer.unref();
    }
  }

  stop(): Promise<void> {
    this.uploader.disconnected();
    this.budgets?.stop();
    if (this.caTimer !== null) clearInterval(this.caTimer);
    this.fleetCa?.disconnected();
    return this.connection.stop();
  }

  /** Records were written (the agent's audit sink calls this once they are durable). */
  auditWritten(): void {
    this.uploader.written();
    // A record is written when a request settled: its cost is in the ledger now.
    this.budgets?.settled();
  }

  /** Sends a new inventory scan (when connected; else it goes up at the next connect). */
  reportInventory(inventory: DeviceInventory): void {
    this.connection.send({ v: PROTOCOL_V, type: 'inventory', inventory });
  }

  /** The device's status may have changed: report it when it did. */
  statusChanged(): void {
    this.reportStatus(false);
  }

  /** The full device status, with the refused policy. */
  deviceStatus(): DeviceStatus {
    return { ...this.options.deviceStatus(), policyRejected: this.policy.refused };
  }

  /** For `outpost status`. */
  status(): GatewaySyncStatus {
    const s = this.connection.snapshot();
    const audit = this.options.audit;
    return {
      url: this.options.enrollment.gatewayUrl,
      deviceId: this.options.enrollment.deviceId,
      state: s.state,
      connectedSince: s.connectedSince,
      lastError: s.lastError,
      nextAttemptAt: s.nextAttemptAt,
      unreachableSince: s.unreachableSince,
      policyVersion: this.policy.version,
      policySignedAt: this.policy.signedAt,
      policyRejected: this.policy.refused,
      audit: { acknowledgedSeq: audit.acknowledgedSeq, pending: Math.max(0, audit.lastSeq - audit.acknowledgedSeq) },
    };
  }

  /** Renews the fleet intermediate when due; emits `ca` (true when renewed). */
  private checkCa(): void {
    if (this.fleetCa === null) return;
    void this.fleetCa.check().then((renewed) => {
      if (renewed) this.statusChanged();
      this.emit('ca', renewed);
    });
  }

  private reportStatus(withPolicy: boolean): void {
    const status = this.deviceStatus();
    const text = JSON.stringify(status);
    if (!withPolicy && text === this.lastStatus) return;
    const sent = this.connection.send({ v: PROTOCOL_V, type: 'status', status, ...(withPolicy ? { policyVersion: this.policy.version } : {}) });
    if (sent) this.lastStatus = text;
  }
}

/** Both handlers run, ours first, when two parts register for one type. */
function mergeHandlers(a: MessageHandlers, b: MessageHandlers): MessageHandlers {
  const out: Record<string, (m: GatewayMessage) => void | Promise<void>> = {};
  for (const [type, handler] of [...Object.entries(a), ...Object.entries(b)] as Array<[string, (m: GatewayMessage) => void | Promise<void>]>) {
    const before = out[type];
    out[type] = before === undefined ? handler : async (m) => {
      await before(m);
      await handler(m);
    };
  }
  return out as MessageHandlers;
}
