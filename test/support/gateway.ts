/**
 * The central gateway for tests: `startTestGateway()` runs the real gateway (real HTTP, real
 * WebSocket hub, real SQLite in a temp home) on 127.0.0.1:0; `admin()` calls its admin API;
 * `enroll()` enrolls a device; `SimAgent` is a protocol-level agent on a real `ws` client that
 * queues what the gateway sends so a test can wait for the next message of a type.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { Writable } from 'node:stream';
import { EventEmitter, once } from 'node:events';
import { pino } from 'pino';
import { startGateway, type GatewayOptions, type RunningGateway } from '../../gateway/server.js';
import { resolveGatewayConfig } from '../../gateway/config.js';
import { gatewayConfig, type GatewayConfig } from '../../shared/schema/gateway-config.js';
import {
  PROTOCOL_V,
  enrollResponse,
  parseGatewayMessage,
  type DeviceStatus,
  type EnrollResponse,
  type GatewayMessage,
} from '../../shared/schema/protocol.js';

/** A gateway in a temp home, and how to reach it. */
export interface TestGateway {
  readonly gateway: RunningGateway;
  readonly home: string;
  readonly url: string;
  /** Calls `/admin/v1/…` with the admin token; answers status and parsed JSON (or text). */
  admin(method: string, pathname: string, body?: unknown, token?: string): Promise<{ status: number; body: any; text: string; headers: Headers }>;
  /** Creates a token and enrolls a device with it. */
  enroll(options?: { team?: string; hostname?: string }): Promise<EnrollResponse>;
  close(): Promise<void>;
}

/** Starts a gateway; `config` overrides the defaults (home is a new temp folder unless given). */
export async function startTestGateway(config: Partial<GatewayConfig> = {}, options: GatewayOptions = {}): Promise<TestGateway> {
  const home = config.home ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-gw-')));
  const parsed = gatewayConfig.parse({ listen: { host: '127.0.0.1', port: 0 }, log: { level: 'silent' }, ...config, home });
  const resolved = resolveGatewayConfig(parsed, home, null);
  const gateway = await startGateway(resolved, { logger: pino({ level: process.env.OUTPOST_TEST_LOG ?? 'silent' }), ...options });
  const admin: TestGateway['admin'] = async (method, pathname, body, token = gateway.adminToken) => {
    const res = await fetch(`${gateway.url}${pathname}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
    return { status: res.status, body: json, text, headers: res.headers };
  };
  return {
    gateway,
    home,
    url: gateway.url,
    admin,
    enroll: async ({ team, hostname } = {}) => {
      const t = await admin('POST', '/admin/v1/enrollment-tokens', { team: team ?? null });
      if (t.status !== 201) throw new Error(`token: ${t.status} ${t.text}`);
      return enrollDevice(gateway.url, t.body.token as string, hostname);
    },
    close: async () => {
      await gateway.close();
      if (config.home === undefined) await fs.rm(home, { recursive: true, force: true });
    },
  };
}

/** Enrolls a device with `token` over real HTTP. */
export async function enrollDevice(url: string, token: string, hostname = 'laptop-1'): Promise<EnrollResponse> {
  const res = await fetch(`${url}/v1/agents/enroll`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token, device: { hostname, osUser: 'ada', os: 'linux 6.8', arch: 'x64', agentVersion: '0.1.0' } }),
  });
  if (res.status !== 201) throw new Error(`enroll: ${res.status} ${await res.text()}`);
  return enrollResponse.parse(await res.json());
}

/** A healthy device's status. */
export const OK_STATUS: DeviceStatus = { caMode: 'standalone', caTrusted: true, paused: false, degraded: [], policyRejected: null };

/** A protocol-level agent: a real `ws` client that records every message and close. */
export class SimAgent {
  readonly received: GatewayMessage[] = [];
  private readonly waiters: Array<{ type: string; resolve: (m: GatewayMessage) => void; from: number }> = [];
  private cursor = 0;
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(
    readonly ws: WebSocket,
    readonly deviceId: string,
  ) {
    ws.on('message', (data) => {
      const parsed = parseGatewayMessage(data.toString());
      if (parsed.kind !== 'message') throw new Error(`gateway sent a bad message: ${JSON.stringify(parsed)}`);
      this.received.push(parsed.message);
      this.wake();
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  /** Opens the WebSocket with `credential` (no hello yet). Rejects with the HTTP status on refusal. */
  static async open(url: string, device: { deviceId: string; credential: string }): Promise<SimAgent> {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/agents/connect`, { headers: { authorization: `Bearer ${device.credential}` } });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => reject(Object.assign(new Error(`refused: ${res.statusCode} ${body}`), { status: res.statusCode, body })));
      });
      ws.once('error', reject);
    });
    return new SimAgent(ws, device.deviceId);
  }

  /** Opens and says hello; resolves after `welcome`. */
  static async connect(url: string, device: { deviceId: string; credential: string }, hello: { policyVersion?: number | null; lastAckedSeq?: number; v?: string } = {}): Promise<SimAgent> {
    const agent = await SimAgent.open(url, device);
    agent.send({
      v: hello.v ?? PROTOCOL_V,
      type: 'hello',
      deviceId: device.deviceId,
      agentVersion: '0.1.0',
      policyVersion: hello.policyVersion ?? null,
      lastAckedSeq: hello.lastAckedSeq ?? 0,
      status: OK_STATUS,
    });
    await agent.next('welcome');
    return agent;
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The next message of `type` received after the previous `next()` of any type returned. */
  next<T extends GatewayMessage['type']>(type: T): Promise<Extract<GatewayMessage, { type: T }>> {
    return new Promise((resolve) => {
      this.waiters.push({ type, resolve: resolve as (m: GatewayMessage) => void, from: this.cursor });
      this.wake();
    });
  }

  /** Waits until a message satisfies `test` (searching everything received so far, then new ones). */
  async until<T extends GatewayMessage['type']>(type: T, test: (m: Extract<GatewayMessage, { type: T }>) => boolean): Promise<Extract<GatewayMessage, { type: T }>> {
    for (;;) {
      const m = await this.next(type);
      if (test(m)) return m;
    }
  }

  private wake(): void {
    for (let i = 0; i < this.waiters.length; i++) {
      const w = this.waiters[i]!;
      const idx = this.received.findIndex((m, j) => j >= w.from && m.type === w.type);
      if (idx === -1) continue;
      this.cursor = Math.max(this.cursor, idx + 1);
      this.waiters.splice(i--, 1);
      w.resolve(this.received[idx]!);
    }
  }

  close(): void {
    this.ws.close();
  }
}

/** A pino logger whose lines a test can wait for. */
export function capturedLogger(): { logger: pino.Logger; lines: string[]; waitFor(text: string): Promise<void> } {
  const lines: string[] = [];
  const events = new EventEmitter();
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      events.emit('line', chunk.toString());
      done();
    },
  });
  return {
    logger: pino({ level: 'info' }, stream),
    lines,
    waitFor: async (text) => {
      if (lines.some((l) => l.includes(text))) return;
      for (;;) {
        const [line] = (await once(events, 'line')) as [string];
        if (line.includes(text)) return;
      }
    },
  };
}

