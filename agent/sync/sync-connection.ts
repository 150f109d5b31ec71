/**
 * The agent's one WebSocket to the central gateway (`/v1/agents/connect`): connects with the device
 * credential over verified TLS, says `hello`, hands each gateway message to the handler registered
 * for its type, watches heartbeats, and reconnects after any close with exponential backoff and full
 * jitter, except after the gateway said the device is revoked (HTTP 403 or close 4003): then it
 * stays down and says so.
 */
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import {
  CLOSE_CODES,
  MAX_MESSAGE_BYTES,
  PROTOCOL_V,
  apiError,
  parseGatewayMessage,
  type AgentMessage,
  type GatewayMessage,
  type HelloMessage,
} from '../../shared/schema/protocol.js';
import { Backoff, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import type { GatewayAddress } from './gateway-address.js';
import type { GatewayTlsOptions } from './gateway-tls.js';
import { networkError } from './gateway-http.js';

/** Where the connection stands. */
export type SyncState = 'connecting' | 'connected' | 'waiting' | 'revoked' | 'stopped';

/** What a handler receives: the message of its type. */
export type GatewayMessageOf<T extends GatewayMessage['type']> = Extract<GatewayMessage, { type: T }>;

/** Handlers by message type (a registry: the connection knows no message's meaning). */
export type MessageHandlers = { readonly [T in GatewayMessage['type']]?: (message: GatewayMessageOf<T>) => void | Promise<void> };

/** Logging the connection needs. */
export interface SyncLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** What the connection needs. */
export interface SyncConnectionOptions {
  readonly address: GatewayAddress;
  readonly tls: GatewayTlsOptions;
  readonly deviceId: string;
  readonly credential: string;
  /** The rest of `hello`, read at each connect (policy version, acknowledged sequence, status). */
  readonly hello: () => Omit<HelloMessage, 'v' | 'type' | 'deviceId'>;
  readonly handlers: MessageHandlers;
  readonly logger: SyncLogger;
  readonly backoff?: BackoffOptions;
  /** How long an open may take before it counts as failed. */
  readonly connectTimeoutMs?: number;
}

/** A summary for status. */
export interface SyncSnapshot {
  readonly state: SyncState;
  readonly connectedSince: string | null;
  /** Why the last connection ended or failed; null while all is well. */
  readonly lastError: string | null;
  /** Consecutive failed attempts. */
  readonly attempts: number;
  /** When the next attempt is due (state `waiting`). */
  readonly nextAttemptAt: string | null;
  /**
   * Since when the gateway has not been reachable: the first failure after the last connection (or
   * since start, when it never connected); null while connected. Retries do not move it.
   */
  readonly unreachableSince: string | null;
}

/**
 * Events: `connected` (after `welcome`, with it), `disconnected` (code, reason), `revoked` (reason),
 * `state` (SyncState).
 */
export class SyncConnection extends EventEmitter {
  private ws: WebSocket | null = null;
  private readonly backoff: Backoff;
  private current: SyncState = 'waiting';
  private timer: NodeJS.Timeout | null = null;
  private watchdog: NodeJS.Timeout | null = null;
  private lastHeard = 0;
  private heartbeatMs = 0;
  private since: string | null = null;
  private lastError: string | null = null;
  private nextAt: number | null = null;
  private downSince: number | null = null;
  /** Messages are handled one at a time, in order (a policy apply may await). */
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly options: SyncConnectionOptions) {
    super();
    this.backoff = new Backoff(options.backoff ?? DEFAULT_BACKOFF);
  }

  get state(): SyncState {
    return this.current;
  }

  snapshot(): SyncSnapshot {
    return {
      state: this.current,
      connectedSince: this.since,
      lastError: this.lastError,
      attempts: this.backoff.attempts,
      nextAttemptAt: this.current === 'waiting' && this.nextAt !== null ? new Date(this.nextAt).toISOString() : null,
      unreachableSince: this.current === 'connected' || this.downSince === null ? null : new Date(this.downSince).toISOString(),
    };
  }

  /** Connects now (and keeps reconnecting until `stop`). */
  start(): void {
    if (this.current === 'stopped' || this.current === 'revoked' || this.ws !== null) return;
    this.open();
  }

  /** Sends a message while connected; false when there is no connection (the caller retries later). */
  send(message: AgentMessage): boolean {
    if (this.current !== 'connected' || this.ws === null || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(message));
    return true;
  }

  /** Closes for good; resolves once the socket is closed. */
  async stop(): Promise<void> {
    this.setState('stopped');
    this.clearTimers();
    const ws = this.ws;
    if (ws === null) return;
    if (ws.readyState === WebSocket.CLOSED) return;
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
    else ws.close(1000, 'the agent is stopping');
    await closed;
    await this.queue;
  }

  private setState(state: SyncState): void {
    if (this.current === state) return;
    if (this.current === 'stopped') return;
    this.current = state;
    this.emit('state', state);
  }

  private clearTimers(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.watchdog !== null) clearInterval(this.watchdog);
    this.timer = null;
    this.watchdog = null;
  }

  private open(): void {
    this.setState('connecting');
    const { address, tls } = this.options;
    const ws = new WebSocket(address.connectUrl, {
      headers: { authorization: `Bearer ${this.options.credential}` },
      maxPayload: MAX_MESSAGE_BYTES,
      perMessageDeflate: false,
      handshakeTimeout: this.options.connectTimeoutMs ?? 30_000,
      ...(address.secure ? { secureContext: tls.secureContext, checkServerIdentity: tls.checkServerIdentity } : {}),
    });
    this.ws = ws;
    let refused: { status: number; code: string; message: string } | null = null;
    let failure: string | null = null;
    /** A frame this side refused (too large, not WebSocket): the code it closed with, and why. */
    let refusedFrame: { code: number; reason: string } | null = null;

    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => {
        if (body.length < 16_384) body += d.toString();
      });
      res.on('end', () => {
        let parsed: ReturnType<typeof apiError.safeParse> | null;
        try {
          parsed = apiError.safeParse(JSON.parse(body));
        } catch {
          parsed = null;
        }
        const err = parsed?.success ? parsed.data.error : { code: 'http_error', message: `HTTP ${res.statusCode ?? 0}` };
        refused = { status: res.statusCode ?? 0, code: err.code, message: err.message };
        ws.terminate();
      });
    });
    ws.on('open', () => {
      this.lastHeard = Date.now();
      const hello: HelloMessage = { v: PROTOCOL_V, type: 'hello', deviceId: this.options.deviceId, ...this.options.hello() };
      ws.send(JSON.stringify(hello));
    });
    ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      this.lastHeard = Date.now();
      if (isBinary) {
        ws.close(CLOSE_CODES.badMessage, 'binary frames are not part of the protocol');
        return;
      }
      const parsed = parseGatewayMessage(data.toString());
      if (parsed.kind === 'ignored') return;
      if (parsed.kind === 'error') {
        this.options.logger.warn({ code: parsed.code, reason: parsed.reason }, 'the gateway sent a message that is not the protocol; reconnecting');
        ws.close(parsed.code, parsed.reason);
        return;
      }
      this.dispatch(parsed.message);
    });
    ws.on('ping', () => {
      this.lastHeard = Date.now();
    });
    ws.on('error', (err) => {
      const wsCode = (err as NodeJS.ErrnoException).code ?? '';
      if (wsCode.startsWith('WS_ERR_')) {
        // ws sent the close frame itself; the close event then reports 1006 (no answer awaited).
        refusedFrame = { code: wsCode === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? CLOSE_CODES.tooLarge : 1002, reason: err.message };
        this.options.logger.warn({ code: refusedFrame.code, reason: err.message }, 'the gateway sent a frame this agent refuses; reconnecting');
      }
      failure = networkError(new URL(address.url), err).message;
    });
    ws.on('close', (closeCode: number, reasonBuffer: Buffer) => {
      const own = refusedFrame as { code: number; reason: string } | null;
      const code = own?.code ?? closeCode;
      const reason = own?.reason ?? reasonBuffer.toString();
      const wasConnected = this.current === 'connected';
      this.ws = null;
      this.clearTimers();
      if (wasConnected) this.emit('disconnected', { code, reason });
      if (this.current === 'stopped') return;
      this.downSince ??= Date.now();
      const denied = refused as { status: number; code: string; message: string } | null;
      if (code === CLOSE_CODES.deviceRevoked || (denied !== null && denied.status === 403)) {
        const why = denied?.message ?? (reason || 'this device was revoked by an administrator');
        this.lastError = `revoked: ${why}`;
        this.setState('revoked');
        this.options.logger.error({ gateway: address.url }, `the gateway revoked this device (${why}); no longer syncing: enroll again to rejoin`);
        this.emit('revoked', why);
        return;
      }
      this.lastError =
        denied !== null
          ? `the gateway refused the connection (HTTP ${denied.status} ${denied.code}): ${denied.message}`
          : failure !== null && !wasConnected
            ? failure
            : `connection closed (${code}${reason === '' ? '' : ` ${reason}`})`;
      this.scheduleReconnect();
    });
  }

  private dispatch(message: GatewayMessage): void {
    if (message.type === 'welcome') {
      this.heartbeatMs = message.heartbeatMs;
      this.backoff.reset();
      this.since = new Date().toISOString();
      this.lastError = null;
      this.downSince = null;
      this.setState('connected');
      this.startWatchdog();
      this.options.logger.info({ gateway: this.options.address.url, gatewayVersion: message.gatewayVersion }, 'connected to the gateway');
      this.emit('connected', message);
    }
    const handler = this.options.handlers[message.type] as ((m: GatewayMessage) => void | Promise<void>) | undefined;
    if (handler === undefined) return;
    this.queue = this.queue.then(
      () => handler(message),
    ).catch((err: unknown) => {
      this.options.logger.error({ type: message.type, err: (err as Error).message }, 'handling a gateway message failed');
    });
  }

  /** Two missed heartbeats (no frame nor ping for two intervals and a bit) mean the link is dead. */
  private startWatchdog(): void {
    const limit = this.heartbeatMs * 2 + 1000;
    this.watchdog = setInterval(() => {
      if (Date.now() - this.lastHeard <= limit) return;
      this.options.logger.warn({ silentMs: Date.now() - this.lastHeard }, 'no heartbeat from the gateway; reconnecting');
      this.ws?.terminate();
    }, Math.max(250, Math.floor(this.heartbeatMs / 2)));
    this.watchdog.unref();
  }

  private scheduleReconnect(): void {
    const delay = this.backoff.next();
    this.nextAt = Date.now() + delay;
    this.setState('waiting');
    this.options.logger.warn({ gateway: this.options.address.url, retryInMs: delay, err: this.lastError }, 'gateway connection lost; retrying with backoff');
    this.emit('retry', delay);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.current === 'waiting') this.open();
    }, delay);
    this.timer.unref();
  }
}
