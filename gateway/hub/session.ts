/**
 * One agent's WebSocket session: waits for `hello`, answers `welcome` with everything the agent
 * must catch up on (the newest signed policy, the audit ack, fleet budgets, commands in force), then
 * handles its messages one at a time, in order (a batch is acknowledged before the next is read).
 */
import type WebSocket from 'ws';
import type { Logger } from 'pino';
import {
  CLOSE_CODES,
  MAX_BATCH_RECORDS,
  MAX_MESSAGE_BYTES,
  PROTOCOL_V,
  parseAgentMessage,
  type AgentMessage,
  type CloseCode,
  type GatewayMessage,
} from '../../shared/schema/protocol.js';
import { GatewayStoreError } from '../store/errors.js';
import type { CommandRow, DeviceRow, GatewayStore } from '../store/store.js';
import type { FleetBudgets } from '../budgets/fleet-budgets.js';
import type { DeviceCa } from '../ca/device-ca.js';
import { CsrRefusedError } from '../ca/org-signer.js';
import { commandApplies } from '../commands/scope.js';
import { periodStart } from '../../shared/core/periods.js';
import { policyMessage, budgetMessage } from './messages.js';
import { decisionsMessage, InventoryBook } from '../inventory/decisions.js';
import type { DeviceInventory } from '../../shared/schema/inventory.js';

/** What a session needs from the gateway around it. */
export interface SessionDeps {
  readonly store: GatewayStore;
  readonly logger: Logger;
  readonly gatewayVersion: string;
  readonly heartbeatMs: number;
  /** How long the agent has to send `hello` after the upgrade. */
  readonly helloTimeoutMs: number;
  readonly budgets: FleetBudgets;
  /** The organisation CA in fleet mode; null: standalone devices. */
  readonly deviceCa: DeviceCa | null;
  /** Called once the session said hello (the hub indexes it then). */
  readonly onReady: (session: AgentSession) => void;
  readonly onClose: (session: AgentSession) => void;
}

type Handler<T extends AgentMessage['type']> = (message: Extract<AgentMessage, { type: T }>) => Promise<void>;

/** One connected agent. */
export class AgentSession {
  private ready = false;
  private closed = false;
  private queue: Promise<void> = Promise.resolve();
  private readonly helloTimer: NodeJS.Timeout;
  /** Answered a pong since the last heartbeat. */
  alive = true;

  private readonly handlers: { [T in AgentMessage['type']]: Handler<T> } = {
    hello: (m) => this.onHello(m),
    'audit.batch': (m) => this.onBatch(m.records),
    'usage.report': (m) => this.onUsage(m.windows),
    status: (m) => this.deps.store.deviceStatus(this.device.id, new Date().toISOString(), m.status, m.policyVersion),
    'command.result': (m) => this.deps.store.commandResult(m.id, this.device.id, m.ok, m.error, new Date().toISOString()),
    'ca.renew': (m) => this.onCaRenew(m.csrPem),
    inventory: (m) => this.onInventory(m.inventory),
  };

  constructor(
    private readonly ws: WebSocket,
    /** The device as authenticated at the upgrade. */
    readonly device: DeviceRow,
    private readonly deps: SessionDeps,
  ) {
    this.helloTimer = setTimeout(() => this.close(CLOSE_CODES.unexpectedHello, 'no hello received in time'), deps.helloTimeoutMs);
    ws.on('message', (data, isBinary) => {
      const text = isBinary ? null : data.toString();
      // Strictly in order: each message waits for the previous one's store write.
      this.queue = this.queue.then(() => this.receive(text));
    });
    ws.on('pong', () => {
      this.alive = true;
    });
    ws.on('close', (code, reason) => this.onSocketClose(code, reason.toString()));
    ws.on('error', (err) => deps.logger.warn({ device: device.id, err: err.message }, 'agent connection error'));
  }

  get deviceId(): string {
    return this.device.id;
  }

  /** Sends one message (dropped if the socket is closing). */
  send(message: GatewayMessage | string): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return;
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** Sends a command if it applies to this device; a revoked device is closed after it. */
  deliver(command: CommandRow): void {
    if (!this.ready || !commandApplies(command.scope, this.device)) return;
    this.send({ v: PROTOCOL_V, type: 'command', id: command.id, issuedAt: command.issuedAt, scope: command.scope, action: command.action });
    if (command.action.kind === 'revoke-device') this.close(CLOSE_CODES.deviceRevoked, 'this device was revoked by an administrator');
  }

  /** Heartbeat tick: terminates a peer that missed the last ping, else pings and sends `heartbeat`. */
  tick(): void {
    if (!this.alive) {
      this.deps.logger.info({ device: this.device.id }, 'agent missed a heartbeat; dropping the connection');
      this.ws.terminate();
      return;
    }
    this.alive = false;
    this.ws.ping();
    if (this.ready) this.send({ v: PROTOCOL_V, type: 'heartbeat', time: new Date().toISOString() });
  }

  /** True once `hello` was accepted. */
  get isReady(): boolean {
    return this.ready;
  }

  /** Closes with a code and reason (logged). */
  close(code: CloseCode, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.helloTimer);
    this.deps.logger.info({ device: this.device.id, code, reason }, 'closing agent connection');
    this.ws.close(code, reason);
  }

  /** Resolves once the messages received so far are handled (the hub waits before its store closes). */
  idle(): Promise<void> {
    return this.queue.catch(() => undefined);
  }

  private async receive(text: string | null): Promise<void> {
    if (this.closed) return;
    if (text === null) return this.close(CLOSE_CODES.badMessage, 'binary frames are not part of the protocol');
    const parsed = parseAgentMessage(text);
    if (parsed.kind === 'ignored') return;
    if (parsed.kind === 'error') {
      this.deps.logger.warn({ device: this.device.id, code: parsed.code, reason: parsed.reason }, 'malformed message from agent');
      return this.close(parsed.code, parsed.reason);
    }
    const message = parsed.message;
    if (!this.ready && message.type !== 'hello') return this.close(CLOSE_CODES.unexpectedHello, `expected hello first, got ${message.type}`);
    if (this.ready && message.type === 'hello') return this.close(CLOSE_CODES.unexpectedHello, 'hello may be sent only once');
    try {
      await (this.handlers[message.type] as Handler<typeof message.type>)(message as never);
    } catch (err) {
      this.deps.logger.error({ device: this.device.id, type: message.type, err: (err as Error).message }, 'failed to handle agent message');
    }
  }

  private async onHello(m: Extract<AgentMessage, { type: 'hello' }>): Promise<void> {
    if (m.deviceId !== this.device.id) return this.close(CLOSE_CODES.unexpectedHello, 'hello names another device than the credential');
    clearTimeout(this.helloTimer);
    const { store } = this.deps;
    // Revoked between the upgrade and this hello (the command went out before this session was listed).
    if ((await store.device(this.device.id))?.revoked !== false) return this.close(CLOSE_CODES.deviceRevoked, 'this device was revoked by an administrator');
    await store.deviceConnected(this.device.id, { at: new Date().toISOString(), agentVersion: m.agentVersion, policyVersion: m.policyVersion, status: m.status });
    this.ready = true;
    this.deps.onReady(this);
    this.send({ v: PROTOCOL_V, type: 'welcome', gatewayVersion: this.deps.gatewayVersion, heartbeatMs: this.deps.heartbeatMs, maxBatchRecords: MAX_BATCH_RECORDS, maxMessageBytes: MAX_MESSAGE_BYTES });
    const latest = await store.latestPolicy();
    if (latest !== null && (m.policyVersion === null || m.policyVersion < latest.version)) this.send(policyMessage(latest));
    this.send({ v: PROTOCOL_V, type: 'audit.ack', seq: await store.auditAck(this.device.id) });
    const now = Date.now();
    await this.deps.budgets.grantOnConnect(this.device.id, now);
    const budgets = budgetMessage(await store.fleetWindows('all', periodStart('1Y', now)), this.device.id, now, await this.deps.budgets.current());
    if (budgets.windows.length > 0) this.send(budgets);
    for (const c of await store.commandsInForce()) this.deliver(c);
  }

  private async onBatch(records: Extract<AgentMessage, { type: 'audit.batch' }>['records']): Promise<void> {
    try {
      const result = await this.deps.store.storeAuditBatch(this.device.id, records);
      if (result.chainProblem !== null) this.deps.logger.warn({ device: this.device.id, problem: result.chainProblem }, 'audit chain does not verify');
      this.send({ v: PROTOCOL_V, type: 'audit.ack', seq: result.ackSeq });
    } catch (err) {
      // No ack: the agent keeps the records and sends them again (a full disk at the gateway).
      if (err instanceof GatewayStoreError) this.deps.logger.error({ device: this.device.id, code: err.code, err: err.message }, 'cannot store audit batch; not acknowledging');
      else throw err;
    }
  }

  private async onUsage(windows: Extract<AgentMessage, { type: 'usage.report' }>['windows']): Promise<void> {
    const { store, budgets } = this.deps;
    const changed = await store.reportUsage(this.device.id, windows);
    const toppedUp = await budgets.topUp(this.device.id, windows, Date.now());
    // This device hears its grant at once, whatever changed (a refused request waits for it)…
    const reported = windows.map((w) => ({ id: w.id, period: w.period, windowStart: w.windowStart }));
    const state = budgetMessage(await store.fleetWindows(reported, Math.min(...reported.map((w) => w.windowStart))), this.device.id, Date.now(), await budgets.current());
    if (state.windows.length > 0) this.send(state);
    // …and every device (on every replica) hears the new totals.
    const keys = new Map([...changed, ...toppedUp].map((k) => [`${k.id}\u0000${k.period}\u0000${k.windowStart}`, k]));
    if (keys.size > 0) await store.publish({ kind: 'budget', windows: [...keys.values()] });
  }

  /** Keeps the device's latest inventory and answers with the decisions in force for it. */
  private async onInventory(inventory: DeviceInventory): Promise<void> {
    const book = new InventoryBook(this.deps.store);
    await book.saveInventory(this.device.id, { receivedAt: new Date().toISOString(), inventory });
    this.send(await decisionsMessage(book, this.device));
  }

  /** Sends the decisions in force (after an administrator changed them). */
  async sendDecisions(): Promise<void> {
    if (this.ready) this.send(await decisionsMessage(new InventoryBook(this.deps.store), this.device));
  }

  private async onCaRenew(csrPem: string): Promise<void> {
    const ca = this.deps.deviceCa;
    if (ca === null) {
      this.send({ v: PROTOCOL_V, type: 'ca.intermediate', intermediate: null, error: 'this gateway has no organisation CA (fleet CA mode is not configured)' });
      return;
    }
    try {
      this.send({ v: PROTOCOL_V, type: 'ca.intermediate', intermediate: await ca.issue(csrPem, this.device.hostname), error: null });
      this.deps.logger.info({ device: this.device.id }, 'device intermediate renewed');
    } catch (err) {
      if (!(err instanceof CsrRefusedError)) throw err;
      this.send({ v: PROTOCOL_V, type: 'ca.intermediate', intermediate: null, error: err.message });
    }
  }

  private onSocketClose(code: number, reason: string): void {
    this.closed = true;
    clearTimeout(this.helloTimer);
    this.deps.logger.info({ device: this.device.id, code, reason }, 'agent disconnected');
    this.deps.onClose(this);
  }
}
