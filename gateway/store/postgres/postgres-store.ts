/**
 * The PostgreSQL store (node-postgres), for several gateway replicas behind a load balancer on one
 * database. Changes fan out between replicas with LISTEN/NOTIFY on one channel: every replica, the
 * writer included, hears each change from the database, so an agent connected to replica B learns of
 * a policy put on replica A as soon as the NOTIFY arrives. Writes that must not interleave (the next
 * policy version, one device's chain) take a transaction-scoped advisory lock.
 */
import { EventEmitter } from 'node:events';
import pg from 'pg';
import type { Logger } from 'pino';
import type { AuditRecord } from '../../../shared/schema/audit.js';
import type { DeviceStatus, SpendWindow } from '../../../shared/schema/protocol.js';
import type { AuditFilter, SpendGrouping } from '../queries.js';
import { advanceOver, initialChain, type ChainState } from '../chain-check.js';
import { auditPageSql, postgresPlaceholder, spendSql, spendByDaySql, decisionCountsSql, ruleCountsSql } from '../audit-sql.js';
import { GatewayStoreError } from '../errors.js';
import { fleetRowsSql, foldWindows, grantWindow, type FleetSqlRow, type GrantWindow, type WindowKey } from '../fleet-windows.js';
import {
  ADMIN_EVENT_COLUMNS,
  adminEventColumns,
  adminEventPage,
  sessionColumns,
  toSession,
  type AdminEventSqlRow,
  type SessionSqlRow,
  DEVICE_COLUMNS,
  DEVICE_FROM,
  auditColumns, ruleIds, scopeKey, toCommand, toDevice, toStoredRecord, type AuditSqlRow, type CommandSqlRow, type DeviceSqlRow } from '../rows.js';
import type {
  AdminEvent,
  AdminEventPage,
  AuditPage,
  ConsoleSessionRow,
  BatchResult,
  CommandResultRow,
  CommandRow,
  DeviceRow,
  EnrollmentTokenRow,
  FleetWindow,
  GatewayStore,
  NewDevice,
  PolicyVersion,
  SpendRow,
  StoreChange,
} from '../store.js';
import { POSTGRES_MIGRATIONS } from './schema.js';

/** The NOTIFY channel every replica listens on. */
export const CHANGE_CHANNEL = 'outpost_gateway_changes';
/** NOTIFY payloads must stay under 8000 bytes; budget changes are split into chunks this big. */
const WINDOWS_PER_NOTIFY = 40;
/** Advisory lock keys (arbitrary constants; the device chain lock adds the device's hash). */
const LOCK_MIGRATE = 7_312_001;
const LOCK_POLICY = 7_312_002;

interface PolicySqlRow {
  version: number;
  document: string;
  signature: string;
  signed_at: string;
  origin: string;
}

function toPolicy(r: PolicySqlRow): PolicyVersion {
  return { version: r.version, document: JSON.parse(r.document), signature: r.signature, signedAt: r.signed_at, origin: r.origin };
}

/** Opens a pool, migrates, and starts listening for changes. */
export async function openPostgresStore(url: string, logger?: Logger): Promise<PostgresStore> {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // An idle client's error (the server restarted) must not crash the gateway.
  pool.on('error', (err) => logger?.warn({ err: err.message }, 'PostgreSQL pool client error'));
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [LOCK_MIGRATE]);
    await client.query('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
    const r = await client.query<{ version: number }>('SELECT version FROM schema_version');
    const current = r.rows[0]?.version ?? 0;
    if (current > POSTGRES_MIGRATIONS.length) throw new Error(`the gateway database has schema version ${current}; this gateway knows up to ${POSTGRES_MIGRATIONS.length}: upgrade it`);
    for (let i = current; i < POSTGRES_MIGRATIONS.length; i++) await client.query(POSTGRES_MIGRATIONS[i]!);
    if (r.rows.length === 0) await client.query('INSERT INTO schema_version VALUES ($1)', [POSTGRES_MIGRATIONS.length]);
    else await client.query('UPDATE schema_version SET version = $1', [POSTGRES_MIGRATIONS.length]);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    client.release();
    await pool.end();
    throw err;
  }
  client.release();
  const store = new PostgresStore(pool, url, logger);
  await store.listen();
  return store;
}

/** The PostgreSQL `GatewayStore`. */
export class PostgresStore implements GatewayStore {
  readonly kind = 'postgres';
  private readonly changes = new EventEmitter();
  private listener: pg.Client | null = null;
  private closed = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly url: string,
    private readonly logger?: Logger,
  ) {
    this.changes.setMaxListeners(0);
  }

  /** Opens the LISTEN connection (again after it dropped). */
  async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url });
    client.on('notification', (n) => {
      if (n.channel !== CHANGE_CHANNEL || n.payload === undefined) return;
      try {
        this.changes.emit('change', JSON.parse(n.payload) as StoreChange);
      } catch (err) {
        this.logger?.warn({ err: (err as Error).message }, 'unreadable change notification');
      }
    });
    const reconnect = (err?: Error): void => {
      if (this.closed || this.listener !== client) return;
      this.listener = null;
      this.logger?.warn({ err: err?.message }, 'lost the PostgreSQL LISTEN connection; reconnecting');
      setTimeout(() => void this.listen().catch((e: unknown) => reconnect(e as Error)), 1000).unref();
    };
    client.on('error', reconnect);
    client.on('end', () => reconnect());
    await client.connect();
    await client.query(`LISTEN ${CHANGE_CHANNEL}`);
    this.listener = client;
  }

  private async q<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<pg.QueryResult<R>> {
    if (this.closed) throw new GatewayStoreError('STORE_CLOSED', 'the gateway store is closed');
    try {
      return await this.pool.query<R>(sql, params);
    } catch (err) {
      throw new GatewayStoreError('STORE_UNAVAILABLE', `the gateway database refused: ${(err as Error).message}`, { cause: err });
    }
  }

  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    if (this.closed) throw new GatewayStoreError('STORE_CLOSED', 'the gateway store is closed');
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw new GatewayStoreError('STORE_UNAVAILABLE', `cannot reach the gateway database: ${(err as Error).message}`, { cause: err });
    }
    try {
      await client.query('BEGIN');
      const out = await fn(client);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      if (err instanceof GatewayStoreError) throw err;
      throw new GatewayStoreError('STORE_UNAVAILABLE', `the gateway database refused: ${(err as Error).message}`, { cause: err });
    } finally {
      client.release();
    }
  }

  async addPolicy(sign: (version: number) => Omit<PolicyVersion, 'version' | 'origin'>, origin: string): Promise<PolicyVersion> {
    return this.tx(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [LOCK_POLICY]);
      const max = await c.query<{ v: number }>('SELECT COALESCE(MAX(version), 0) AS v FROM policies');
      const version = Number(max.rows[0]?.v ?? 0) + 1;
      const signed = sign(version);
      await c.query('INSERT INTO policies (version, document, signature, signed_at, origin) VALUES ($1, $2, $3, $4, $5)', [
        version,
        JSON.stringify(signed.document),
        signed.signature,
        signed.signedAt,
        origin,
      ]);
      return { version, ...signed, origin };
    });
  }

  async latestPolicy(): Promise<PolicyVersion | null> {
    const r = await this.q<PolicySqlRow>('SELECT * FROM policies ORDER BY version DESC LIMIT 1');
    return r.rows[0] === undefined ? null : toPolicy(r.rows[0]);
  }

  async policyVersion(version: number): Promise<PolicyVersion | null> {
    const r = await this.q<PolicySqlRow>('SELECT * FROM policies WHERE version = $1', [version]);
    return r.rows[0] === undefined ? null : toPolicy(r.rows[0]);
  }

  async listPolicyVersions(): Promise<ReadonlyArray<Omit<PolicyVersion, 'document' | 'signature'>>> {
    const r = await this.q<PolicySqlRow>('SELECT version, signed_at, origin FROM policies ORDER BY version DESC');
    return r.rows.map((p) => ({ version: p.version, signedAt: p.signed_at, origin: p.origin }));
  }

  async addEnrollmentToken(t: EnrollmentTokenRow): Promise<void> {
    await this.q('INSERT INTO enrollment_tokens (token_sha256, team, expires_at, created_at, user_name, code_challenge) VALUES ($1, $2, $3, $4, $5, $6)', [t.tokenSha256, t.team, t.expiresAt, t.createdAt, t.user, t.codeChallenge]);
  }

  async consumeEnrollmentToken(tokenSha256: string, now: Date): Promise<EnrollmentTokenRow | null> {
    const r = await this.q<{ team: string | null; expires_at: string; created_at: string; user_name: string | null; code_challenge: string | null }>(
      'DELETE FROM enrollment_tokens WHERE token_sha256 = $1 RETURNING team, expires_at, created_at, user_name, code_challenge',
      [tokenSha256],
    );
    const row = r.rows[0];
    if (row === undefined || Date.parse(row.expires_at) <= now.getTime()) return null;
    return { tokenSha256, team: row.team, expiresAt: row.expires_at, createdAt: row.created_at, user: row.user_name, codeChallenge: row.code_challenge };
  }

  async addDevice(d: NewDevice): Promise<void> {
    await this.q('INSERT INTO devices (id, credential_sha256, hostname, os_user, os, arch, agent_version, team, enrolled_at, user_name) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)', [
      d.id,
      d.credentialSha256,
      d.facts.hostname,
      d.facts.osUser,
      d.facts.os,
      d.facts.arch,
      d.facts.agentVersion,
      d.team,
      d.enrolledAt,
      d.user,
    ]);
  }

  async deviceByCredential(credentialSha256: string): Promise<DeviceRow | null> {
    const r = await this.q<DeviceSqlRow>(`SELECT ${DEVICE_COLUMNS} FROM ${DEVICE_FROM} WHERE d.credential_sha256 = $1`, [credentialSha256]);
    return r.rows[0] === undefined ? null : toDevice(r.rows[0]);
  }

  async device(id: string): Promise<DeviceRow | null> {
    const r = await this.q<DeviceSqlRow>(`SELECT ${DEVICE_COLUMNS} FROM ${DEVICE_FROM} WHERE d.id = $1`, [id]);
    return r.rows[0] === undefined ? null : toDevice(r.rows[0]);
  }

  async listDevices(): Promise<readonly DeviceRow[]> {
    return (await this.q<DeviceSqlRow>(`SELECT ${DEVICE_COLUMNS} FROM ${DEVICE_FROM} ORDER BY d.enrolled_at, d.id`)).rows.map(toDevice);
  }

  async deviceConnected(id: string, seen: { at: string; agentVersion: string; policyVersion: number | null; status: DeviceStatus }): Promise<void> {
    await this.q('UPDATE devices SET online = TRUE, last_seen = $1, agent_version = $2, policy_version = $3, status = $4 WHERE id = $5', [
      seen.at,
      seen.agentVersion,
      seen.policyVersion,
      JSON.stringify(seen.status),
      id,
    ]);
  }

  async deviceStatus(id: string, at: string, status: DeviceStatus, policyVersion?: number | null): Promise<void> {
    if (policyVersion === undefined) await this.q('UPDATE devices SET last_seen = $1, status = $2 WHERE id = $3', [at, JSON.stringify(status), id]);
    else await this.q('UPDATE devices SET last_seen = $1, status = $2, policy_version = $3 WHERE id = $4', [at, JSON.stringify(status), policyVersion, id]);
  }

  async deviceDisconnected(id: string, at: string): Promise<void> {
    await this.q('UPDATE devices SET online = FALSE, last_seen = $1 WHERE id = $2', [at, id]);
  }

  async revokeDevice(id: string): Promise<boolean> {
    return ((await this.q('UPDATE devices SET revoked = TRUE, online = FALSE WHERE id = $1', [id])).rowCount ?? 0) > 0;
  }

  async storeAuditBatch(deviceId: string, records: readonly AuditRecord[]): Promise<BatchResult> {
    return this.tx(async (c) => {
      // One device's chain advances in one transaction at a time, whichever replica its batches reach.
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`chain:${deviceId}`]);
      const params: unknown[] = [];
      const values = records.map((r) => {
        const cols = auditColumns(deviceId, r);
        const base = params.length;
        params.push(...cols);
        return `(${cols.map((_, i) => `$${base + i + 1}`).join(', ')})`;
      });
      const ins = await c.query(
        `INSERT INTO audit (record_id, device_id, seq, time, principal, decision, provider, model, cost_usd, body, app, user_name) VALUES ${values.join(', ')} ON CONFLICT (record_id) DO NOTHING RETURNING cursor, record_id`,
        params,
      );
      const fired = new Map(records.map((r) => [r.id, ruleIds(r)]));
      const ruleRows = ins.rows.flatMap((row: { cursor: string; record_id: string }) => (fired.get(row.record_id) ?? []).map((id) => [id, row.cursor]));
      if (ruleRows.length > 0) {
        await c.query(`INSERT INTO audit_rules (rule_id, cursor) VALUES ${ruleRows.map((_, i) => `($${2 * i + 1}, $${2 * i + 2})`).join(', ')} ON CONFLICT DO NOTHING`, ruleRows.flat());
      }
      const row = (await c.query<{ ack_seq: string; ack_hash: string; problem: string | null }>('SELECT ack_seq, ack_hash, problem FROM device_chain WHERE device_id = $1', [deviceId])).rows[0];
      const first = records.reduce((a, b) => (b.seq < a.seq ? b : a));
      let state: ChainState = row === undefined ? initialChain(first) : { ackSeq: Number(row.ack_seq), ackHash: row.ack_hash, problem: row.problem };
      const before = state.problem;
      for (;;) {
        const next = await c.query<{ body: string }>('SELECT body FROM audit WHERE device_id = $1 AND seq > $2 ORDER BY seq LIMIT 1000', [deviceId, state.ackSeq]);
        const advanced = advanceOver(state, next.rows.map((r) => JSON.parse(r.body) as AuditRecord));
        const moved = advanced.ackSeq !== state.ackSeq;
        state = advanced;
        if (!moved || next.rows.length < 1000) break;
      }
      await c.query(
        'INSERT INTO device_chain (device_id, ack_seq, ack_hash, problem) VALUES ($1, $2, $3, $4) ON CONFLICT (device_id) DO UPDATE SET ack_seq = EXCLUDED.ack_seq, ack_hash = EXCLUDED.ack_hash, problem = EXCLUDED.problem',
        [deviceId, state.ackSeq, state.ackHash, state.problem],
      );
      return { ackSeq: state.ackSeq, inserted: ins.rowCount ?? 0, chainProblem: state.problem !== before ? state.problem : null };
    });
  }

  async auditAck(deviceId: string): Promise<number> {
    const r = await this.q<{ ack_seq: string }>('SELECT ack_seq FROM device_chain WHERE device_id = $1', [deviceId]);
    return Number(r.rows[0]?.ack_seq ?? 0);
  }

  async queryAudit(filter: AuditFilter, limit: number, cursor: number | null): Promise<AuditPage> {
    const built = auditPageSql(filter, limit, cursor, postgresPlaceholder);
    const records = (await this.q<AuditSqlRow>(built.sql, built.params)).rows.map(toStoredRecord);
    return { records, nextCursor: records.length === limit ? (records.at(-1)?.cursor ?? null) : null };
  }

  async spend(grouping: SpendGrouping, since: string | null, until: string | null): Promise<readonly SpendRow[]> {
    const built = spendSql(grouping, since, until, postgresPlaceholder);
    const r = await this.q<{ key: string; requests: string; cost_usd: number }>(built.sql, built.params);
    return r.rows.map((x) => ({ key: x.key, requests: Number(x.requests), costUsd: Number(x.cost_usd) }));
  }

  async spendByDay(grouping: SpendGrouping, since: string | null, until: string | null): Promise<ReadonlyArray<SpendRow & { readonly day: string }>> {
    const built = spendByDaySql(grouping, since, until, postgresPlaceholder);
    const r = await this.q<{ day: string; key: string; requests: string; cost_usd: number }>(built.sql, built.params);
    return r.rows.map((x) => ({ day: x.day, key: x.key, requests: Number(x.requests), costUsd: Number(x.cost_usd) }));
  }

  async decisionCounts(since: string): Promise<Readonly<Record<string, number>>> {
    const built = decisionCountsSql(since, postgresPlaceholder);
    const r = await this.q<{ decision: string; n: string }>(built.sql, built.params);
    return Object.fromEntries(r.rows.map((x) => [x.decision, Number(x.n)]));
  }

  async ruleCounts(since: string, limit: number): Promise<ReadonlyArray<{ id: string; count: number }>> {
    const built = ruleCountsSql(since, limit, postgresPlaceholder);
    return (await this.q<{ rule: string; n: string }>(built.sql, built.params)).rows.map((r) => ({ id: r.rule, count: Number(r.n) }));
  }

  async pruneAudit(before: string): Promise<number> {
    return this.tx(async (c) => {
      await c.query('DELETE FROM audit_rules WHERE cursor IN (SELECT cursor FROM audit WHERE time < $1)', [before]);
      return (await c.query('DELETE FROM audit WHERE time < $1', [before])).rowCount ?? 0;
    });
  }

  async reportUsage(deviceId: string, windows: readonly SpendWindow[]): Promise<readonly WindowKey[]> {
    const changed: WindowKey[] = [];
    for (const w of windows) {
      const r = await this.q(
        `INSERT INTO usage (device_id, budget_id, period, window_start, spent_usd) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (budget_id, period, window_start, device_id) DO UPDATE SET spent_usd = EXCLUDED.spent_usd WHERE usage.spent_usd < EXCLUDED.spent_usd`,
        [deviceId, w.id, w.period, w.windowStart, w.spentUsd],
      );
      if ((r.rowCount ?? 0) > 0) changed.push({ id: w.id, period: w.period, windowStart: w.windowStart });
    }
    return changed;
  }

  async fleetWindows(keys: readonly WindowKey[] | 'all', sinceMs: number): Promise<readonly FleetWindow[]> {
    return foldWindows((await this.q<FleetSqlRow>(fleetRowsSql('$1'), [sinceMs])).rows, keys);
  }

  async topUpGrant(deviceId: string, key: WindowKey, limitUsd: number, decide: (w: GrantWindow) => number): Promise<number> {
    return this.tx(async (c) => {
      // One grant decision per window at a time, whichever replica makes it.
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`grant:${key.id}:${key.period}:${key.windowStart}`]);
      const rows = await c.query<FleetSqlRow>(
        `SELECT device_id, budget_id, period, window_start, spent_usd, NULL AS cap_usd FROM usage WHERE budget_id = $1 AND period = $2 AND window_start = $3
         UNION ALL SELECT device_id, budget_id, period, window_start, NULL AS spent_usd, cap_usd FROM budget_grants WHERE budget_id = $1 AND period = $2 AND window_start = $3`,
        [key.id, key.period, key.windowStart],
      );
      const cap = decide(grantWindow(rows.rows, key, limitUsd));
      await c.query(
        'INSERT INTO budget_grants VALUES ($1, $2, $3, $4, $5) ON CONFLICT (budget_id, period, window_start, device_id) DO UPDATE SET cap_usd = EXCLUDED.cap_usd',
        [key.id, key.period, key.windowStart, deviceId, cap],
      );
      return cap;
    });
  }

  async getSetting(name: string): Promise<unknown> {
    const r = await this.q<{ value: string }>('SELECT value FROM settings WHERE name = $1', [name]);
    return r.rows[0] === undefined ? undefined : JSON.parse(r.rows[0].value);
  }

  async setSetting(name: string, value: unknown): Promise<void> {
    await this.q('INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value', [name, JSON.stringify(value)]);
  }

  async addCommand(c: CommandRow): Promise<void> {
    await this.q('INSERT INTO commands (id, issued_at, scope, scope_key, action, kind) VALUES ($1, $2, $3, $4, $5, $6)', [
      c.id,
      c.issuedAt,
      JSON.stringify(c.scope),
      scopeKey(c.scope),
      JSON.stringify(c.action),
      c.action.kind,
    ]);
  }

  async command(id: string): Promise<CommandRow | null> {
    const r = await this.q<CommandSqlRow>('SELECT id, issued_at, scope, action FROM commands WHERE id = $1', [id]);
    return r.rows[0] === undefined ? null : toCommand(r.rows[0]);
  }

  async commandsInForce(): Promise<readonly CommandRow[]> {
    const r = await this.q<CommandSqlRow>(
      `SELECT id, issued_at, scope, action FROM commands WHERE kind = 'revoke-virtual-key'
       UNION ALL
       SELECT c.id, c.issued_at, c.scope, c.action FROM commands c
         WHERE c.kind = 'kill-switch' AND c.issued_at = (SELECT MAX(k.issued_at) FROM commands k WHERE k.kind = 'kill-switch' AND k.scope_key = c.scope_key)
       ORDER BY issued_at, id`,
    );
    return r.rows.map(toCommand);
  }

  async commandResult(id: string, deviceId: string, ok: boolean, error: string | null, at: string): Promise<void> {
    await this.q(
      'INSERT INTO command_results VALUES ($1, $2, $3, $4, $5) ON CONFLICT (command_id, device_id) DO UPDATE SET ok = EXCLUDED.ok, error = EXCLUDED.error, at = EXCLUDED.at',
      [id, deviceId, ok, error, at],
    );
  }

  async commandResults(id: string): Promise<readonly CommandResultRow[]> {
    const r = await this.q<{ device_id: string; ok: boolean; error: string | null; at: string }>('SELECT device_id, ok, error, at FROM command_results WHERE command_id = $1 ORDER BY at', [id]);
    return r.rows.map((x) => ({ deviceId: x.device_id, ok: x.ok, error: x.error, at: x.at }));
  }

  async addAdminEvent(e: AdminEvent): Promise<void> {
    await this.q('INSERT INTO admin_events (time, who, action, detail, before_state, after_state) VALUES ($1, $2, $3, $4, $5, $6)', adminEventColumns(e));
  }

  async listAdminEvents(limit: number, cursor: number | null): Promise<AdminEventPage> {
    const r = await this.q<AdminEventSqlRow>(`SELECT ${ADMIN_EVENT_COLUMNS} FROM admin_events WHERE id < $1 ORDER BY id DESC LIMIT $2`, [cursor ?? Number.MAX_SAFE_INTEGER, limit + 1]);
    return adminEventPage(r.rows, limit);
  }

  async addSession(session: ConsoleSessionRow): Promise<void> {
    await this.q('DELETE FROM console_sessions WHERE expires_at <= $1', [session.createdAt]);
    await this.q('INSERT INTO console_sessions VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', sessionColumns(session));
  }

  async session(idSha256: string, now: Date): Promise<ConsoleSessionRow | null> {
    const r = await this.q<SessionSqlRow>('SELECT * FROM console_sessions WHERE id_sha256 = $1 AND expires_at > $2', [idSha256, now.toISOString()]);
    const row = r.rows[0];
    return row === undefined ? null : toSession(row);
  }

  async deleteSession(idSha256: string): Promise<boolean> {
    return ((await this.q('DELETE FROM console_sessions WHERE id_sha256 = $1', [idSha256])).rowCount ?? 0) > 0;
  }

  async publish(change: StoreChange): Promise<void> {
    const payloads =
      change.kind === 'budget' && change.windows.length > WINDOWS_PER_NOTIFY
        ? Array.from({ length: Math.ceil(change.windows.length / WINDOWS_PER_NOTIFY) }, (_, i) => ({ kind: 'budget' as const, windows: change.windows.slice(i * WINDOWS_PER_NOTIFY, (i + 1) * WINDOWS_PER_NOTIFY) }))
        : [change];
    for (const p of payloads) await this.q('SELECT pg_notify($1, $2)', [CHANGE_CHANNEL, JSON.stringify(p)]);
  }

  onChange(listener: (change: StoreChange) => void): () => void {
    this.changes.on('change', listener);
    return () => this.changes.off('change', listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.changes.removeAllListeners();
    const listener = this.listener;
    this.listener = null;
    await listener?.end().catch(() => undefined);
    await this.pool.end();
  }
}
