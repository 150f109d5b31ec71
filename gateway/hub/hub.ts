/**
 * The agents' WebSocket hub at `/v1/agents/connect`: authenticates the upgrade by device credential
 * (401 / 403 before any WebSocket exists), keeps one session per device, and turns the store's
 * changes (from this replica or another) into pushes: a new policy to every agent, a command to the
 * agents it names, fleet budget totals to every agent.
 */
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { Logger } from 'pino';
import { CLOSE_CODES, MAX_MESSAGE_BYTES } from '../../shared/schema/protocol.js';
import { bearerToken, secretHash } from '../http/bearer.js';
import type { ApiErrorCode } from '../http/errors.js';
import type { GatewayStore, StoreChange } from '../store/store.js';
import type { WindowKey } from '../store/fleet-windows.js';
import { FleetBudgets } from '../budgets/fleet-budgets.js';
import type { DeviceCa } from '../ca/device-ca.js';
import { AgentSession } from './session.js';
import { RateShares } from './rate-share.js';
import { budgetMessage, policyMessage } from './messages.js';

/** The WebSocket path under the gateway's base URL. */
export const CONNECT_PATH = '/v1/agents/connect';

/** Hub settings. */
export interface HubOptions {
  readonly store: GatewayStore;
  readonly logger: Logger;
  readonly gatewayVersion: string;
  /** Heartbeat interval (also the ping interval: two missed pongs drop the connection). */
  readonly heartbeatMs?: number;
  readonly helloTimeoutMs?: number;
  /** Fleet CA mode: signs renewals; null in standalone mode. */
  readonly deviceCa?: DeviceCa | null;
}

/** Agent connections of this replica. */
export class AgentHub {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES, perMessageDeflate: false });
  private readonly sessions = new Map<string, AgentSession>();
  private readonly pendingWindows = new Map<string, WindowKey>();
  private budgetFlush: NodeJS.Immediate | null = null;
  /** Set by {@link close}: the sessions it closes need no new shares (the store closes next). */
  private closing = false;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly unsubscribe: () => void;
  private readonly heartbeatMs: number;
  private readonly budgets: FleetBudgets;
  private readonly shares: RateShares;

  constructor(private readonly options: HubOptions) {
    this.heartbeatMs = options.heartbeatMs ?? 15_000;
    this.budgets = new FleetBudgets(options.store);
    this.shares = new RateShares(options.store);
    this.heartbeat = setInterval(() => {
      for (const s of this.sessions.values()) s.tick();
      this.refreshShares(null);
    }, this.heartbeatMs);
    this.heartbeat.unref();
    this.unsubscribe = options.store.onChange((change) => {
      this.onChange(change).catch((err: unknown) => options.logger.error({ err: (err as Error).message, change: change.kind }, 'failed to push a change to agents'));
    });
  }

  /** Agents connected to this replica (that said hello). */
  get connected(): number {
    return this.sessions.size;
  }

  /** Handles an HTTP upgrade; returns false when the path is not the hub's. */
  handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const url = new URL(req.url ?? '/', 'http://gateway');
    if (url.pathname !== CONNECT_PATH) return false;
    this.authenticate(req, socket, head).catch((err: unknown) => {
      this.options.logger.error({ err: (err as Error).message }, 'agent upgrade failed');
      refuse(socket, 503, 'store_unavailable', 'the gateway cannot check credentials right now');
    });
    return true;
  }

  private async authenticate(req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const credential = bearerToken(req.headers);
    const device = credential === null ? null : await this.options.store.deviceByCredential(secretHash(credential));
    if (device === null) {
      this.options.logger.warn({ remote: req.socket.remoteAddress }, 'agent connection without a valid device credential');
      return refuse(socket, 401, 'unauthenticated', 'a device credential is required: enroll this device (outpost enroll)');
    }
    if (device.revoked) {
      this.options.logger.warn({ device: device.id }, 'revoked device tried to connect');
      return refuse(socket, 403, 'device_revoked', 'this device was revoked by an administrator');
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      new AgentSession(ws, device, {
        store: this.options.store,
        logger: this.options.logger,
        gatewayVersion: this.options.gatewayVersion,
        heartbeatMs: this.heartbeatMs,
        helloTimeoutMs: this.options.helloTimeoutMs ?? 10_000,
        budgets: this.budgets,
        deviceCa: this.options.deviceCa ?? null,
        onReady: (s) => {
          const older = this.sessions.get(s.deviceId);
          this.sessions.set(s.deviceId, s);
          older?.close(CLOSE_CODES.replaced, 'replaced by a newer connection of the same device');
          this.refreshShares(s);
        },
        onClose: (s) => {
          if (this.sessions.get(s.deviceId) !== s) return;
          this.sessions.delete(s.deviceId);
          this.options.store
            .deviceDisconnected(s.deviceId, new Date().toISOString())
            .then(() => this.refreshShares(null))
            .catch(() => undefined);
        },
      });
    });
  }

  /** Recounts the online devices for fleet rate shares (errors are logged: the old share stays). */
  private refreshShares(fresh: AgentSession | null): void {
    if (this.closing) return;
    this.shares.refresh(() => this.sessions.values(), fresh).catch((err: unknown) => {
      if (!this.closing) this.options.logger.error({ err: (err as Error).message }, 'failed to update fleet rate shares');
    });
  }

  private async onChange(change: StoreChange): Promise<void> {
    switch (change.kind) {
      case 'policy': {
        this.budgets.invalidate();
        const p = await this.options.store.policyVersion(change.version);
        if (p === null) return;
        // Serialised once for every agent.
        const text = JSON.stringify(policyMessage(p));
        for (const s of this.sessions.values()) if (s.isReady) s.send(text);
        return;
      }
      case 'command': {
        const c = await this.options.store.command(change.id);
        if (c === null) return;
        for (const s of [...this.sessions.values()]) s.deliver(c);
        return;
      }
      case 'budget':
        for (const w of change.windows) this.pendingWindows.set(`${w.id}\u0000${w.period}\u0000${w.windowStart}`, w);
        // Reports arriving in one turn go out as one push per agent.
        this.budgetFlush ??= setImmediate(() => {
          this.budgetFlush = null;
          this.flushBudgets().catch((err: unknown) => this.options.logger.error({ err: (err as Error).message }, 'failed to push budget state'));
        });
        return;
      case 'inventory':
        for (const s of [...this.sessions.values()]) await s.sendDecisions();
        return;
      default: {
        const never: never = change;
        return never;
      }
    }
  }

  private async flushBudgets(): Promise<void> {
    const keys = [...this.pendingWindows.values()];
    this.pendingWindows.clear();
    if (keys.length === 0 || this.sessions.size === 0) return;
    const windows = await this.options.store.fleetWindows(keys, Math.min(...keys.map((k) => k.windowStart)));
    const limits = await this.budgets.current();
    const now = Date.now();
    for (const s of this.sessions.values()) {
      const m = budgetMessage(windows, s.deviceId, now, limits);
      if (m.windows.length > 0) s.send(m);
    }
  }

  /** Closes every agent connection (1001 going away) and stops listening for changes. */
  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.heartbeat);
    if (this.budgetFlush !== null) clearImmediate(this.budgetFlush);
    this.unsubscribe();
    for (const s of this.sessions.values()) s.close(CLOSE_CODES.goingAway, 'the gateway is shutting down');
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    // A recount, or a message still being handled, reads the store: let them finish before it closes.
    await Promise.all([this.shares.idle(), ...[...this.sessions.values()].map((s) => s.idle())]);
  }
}

/** Answers an upgrade with a plain HTTP error (`apiError` body) and closes the socket. */
function refuse(socket: Duplex, status: number, code: ApiErrorCode, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  const reason = { 401: 'Unauthorized', 403: 'Forbidden', 503: 'Service Unavailable' }[status] ?? 'Error';
  socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}
