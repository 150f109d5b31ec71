/**
 * The embedded store (better-sqlite3, WAL): zero setup, one gateway process. Calls are synchronous
 * underneath and short; the interface is async so the PostgreSQL store can stand in for it. Changes
 * fan out in process only (a second replica needs PostgreSQL).
 */
import fs from 'node:fs';
import path from 'node:path';
import { EventEmitter } from 'node:events';
import Database from 'better-sqlite3';
import type { AuditRecord } from '../../../shared/schema/audit.js';
import type { DeviceStatus, SpendWindow } from '../../../shared/schema/protocol.js';
import type { AuditFilter, SpendGrouping } from '../queries.js';
import { fleetRowsSql, foldWindows, grantWindow, type FleetSqlRow, type GrantWindow, type WindowKey } from '../fleet-windows.js';
import { advanceChain, initialChain, type ChainState } from '../chain-check.js';
import { auditPageSql, spendSql, spendByDaySql, decisionCountsSql, ruleCountsSql, sqlitePlaceholder } from '../audit-sql.js';
import { GatewayStoreError } from '../errors.js';
import {
  ADMIN_EVENT_COLUMNS,
  DEVICE_COLUMNS,
  DEVICE_FROM,
  adminEventColumns,
  adminEventPage,
  sessionColumns,
  toSession,
  type AdminEventSqlRow,
  type SessionSqlRow,
  auditColumns, ruleIds,
  scopeKey,
  toCommand,
  toDevice,
  toStoredRecord,
  type AuditSqlRow,
  type CommandSqlRow,
  type DeviceSqlRow,
} from '../rows.js';
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
import { SQLITE_MIGRATIONS } from './schema.js';

interface PolicySqlRow {
  version: number;
  document: string;
  signature: string;
  signed_at: string;
  origin: string;
}

/** One window's usage and grant rows (parameters: id, period, windowStart, twice). */
const WINDOW_ROWS_SQL = `SELECT device_id, budget_id, period, window_start, spent_usd, NULL AS cap_usd FROM usage WHERE budget_id = ? AND period = ? AND window_start = ?
  UNION ALL SELECT device_id, budget_id, period, window_start, NULL AS spent_usd, cap_usd FROM budget_grants WHERE budget_id = ? AND period = ? AND window_start = ?`;

function toPolicy(r: PolicySqlRow): PolicyVersion {
  return { version: r.version, document: JSON.parse(r.document), signature: r.signature, signedAt: r.signed_at, origin: r.origin };
}

/** Any SQLite write failure (full disk, read-only file) as the error the hub understands. */
function unavailable(err: unknown): GatewayStoreError {
  return new GatewayStoreError('STORE_UNAVAILABLE', `the gateway store refused a write: ${(err as Error).message}`, { cause: err });
}

/** Opens (creating if needed) the gateway's SQLite file. Startup only: synchronous file calls. */
export function openSqliteStore(file: string): SqliteStore {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  // Created 0600 before SQLite does, so its -wal and -shm copy the mode.
  fs.closeSync(fs.openSync(file, 'a', 0o600));
  const db = new Database(file);
  db.pragma('busy_timeout = 5000');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SQLITE_MIGRATIONS.length) {
    db.close();
    throw new Error(`the gateway store ${file} has schema version ${current}; this gateway knows up to ${SQLITE_MIGRATIONS.length}: upgrade it`);
  }
  SQLITE_MIGRATIONS.forEach((sql, i) => {
    if (i < current) return;
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${i + 1}`);
    })();
  });
  // One process owns an SQLite store: whoever was online before it started is not any more.
  db.prepare('UPDATE devices SET online = 0').run();
  return new SqliteStore(db);
}

/** The SQLite `GatewayStore`. */
export class SqliteStore implements GatewayStore {
  readonly kind = 'sqlite';
  private readonly changes = new EventEmitter();
  private closed = false;

  constructor(private readonly db: Database.Database) {
    this.changes.setMaxListeners(0);
  }

  private write<T>(fn: () => T): T {
    if (this.closed) throw new GatewayStoreError('STORE_CLOSED', 'the gateway store is closed');
    try {
      return this.db.transaction(fn)();
    } catch (err) {
      if (err instanceof GatewayStoreError) throw err;
      throw unavailable(err);
    }
  }

  async addPolicy(sign: (version: number) => Omit<PolicyVersion, 'version' | 'origin'>, origin: string): Promise<PolicyVersion> {
    return this.write(() => {
      const max = this.db.prepare('SELECT COALESCE(MAX(version), 0) AS v FROM policies').get() as { v: number };
      const version = max.v + 1;
      const signed = sign(version);
      this.db
        .prepare('INSERT INTO policies (version, document, signature, signed_at, origin) VALUES (?, ?, ?, ?, ?)')
        .run(version, JSON.stringify(signed.document), signed.signature, signed.signedAt, origin);
      return { version, ...signed, origin };
    });
  }

  async latestPolicy(): Promise<PolicyVersion | null> {
    const r = this.db.prepare('SELECT * FROM policies ORDER BY version DESC LIMIT 1').get() as PolicySqlRow | undefined;
    return r === undefined ? null : toPolicy(r);
  }

  async policyVersion(version: number): Promise<PolicyVersion | null> {
    const r = this.db.prepare('SELECT * FROM policies WHERE version = ?').get(version) as PolicySqlRow | undefined;
    return r === undefined ? null : toPolicy(r);
  }

  async listPolicyVersions(): Promise<ReadonlyArray<Omit<PolicyVersion, 'document' | 'signature'>>> {
    const rows = this.db.prepare('SELECT version, signed_at, origin FROM policies ORDER BY version DESC').all() as PolicySqlRow[];
    return rows.map((r) => ({ version: r.version, signedAt: r.signed_at, origin: r.origin }));
  }

  async addEnrollmentToken(t: EnrollmentTokenRow): Promise<void> {
    this.write(() => this.db.prepare('INSERT INTO enrollment_tokens (token_sha256, team, expires_at, created_at, user_name, code_challenge) VALUES (?, ?, ?, ?, ?, ?)').run(t.tokenSha256, t.team, t.expiresAt, t.createdAt, t.user, t.codeChallenge));
  }

  async consumeEnrollmentToken(tokenSha256: string, now: Date): Promise<EnrollmentTokenRow | null> {
    return this.write(() => {
      // DELETE … RETURNING: one statement, so a token cannot be used twice even by two requests at once.
      const r = this.db.prepare('DELETE FROM enrollment_tokens WHERE token_sha256 = ? RETURNING team, expires_at, created_at, user_name, code_challenge').get(tokenSha256) as
        | { team: string | null; expires_at: string; created_at: string; user_name: string | null; code_challenge: string | null }
        | undefined;
      if (r === undefined || Date.parse(r.expires_at) <= now.getTime()) return null;
      return { tokenSha256, team: r.team, expiresAt: r.expires_at, createdAt: r.created_at, user: r.user_name, codeChallenge: r.code_challenge };
    });
  }

  async addDevice(d: NewDevice): Promise<void> {
    this.write(() =>
      this.db
        .prepare('INSERT INTO devices (id, credential_sha256, hostname, os_user, os, arch, agent_version, team, enrolled_at, user_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(d.id, d.credentialSha256, d.facts.hostname, d.facts.osUser, d.facts.os, d.facts.arch, d.facts.agentVersion, d.team, d.enrolledAt, d.user),
    );
  }

  async deviceByCredential(credentialSha256: string): Promise<DeviceRow | null> {
    const r = this.db.prepare(`SELECT ${DEVICE_COLUMNS} FROM ${DEVICE_FROM} WHERE d.credential_sha256 = ?`).get(credentialSha256) as DeviceSqlRow | undefined;
    return r === undefined ? null : toDevice(r);
  }

  async device(id: string): Promise<DeviceRow | null> {
    const r = this.db.prepare(`SELECT ${DEVICE_COLUMNS} FROM ${DEVICE_FROM} WHERE d.id = ?`).get(id) as DeviceSqlRow | undefined;
    return r === undefined ? null : toDevice(r);
  }

  async listDevices(): Promise<readonly DeviceRow[]> {
    return (this.db.prepare(`SELECT ${DEVICE_COLUMNS} FROM ${DEVICE_FROM} ORDER BY d.enrolled_at, d.id`).all() as DeviceSqlRow[]).map(toDevice);
  }

  async deviceConnected(id: string, seen: { at: string; agentVersion: string; policyVersion: number | null; status: DeviceStatus }): Promise<void> {
    this.write(() =>
      this.db
        .prepare('UPDATE devices SET online = 1, last_seen = ?, agent_version = ?, policy_version = ?, status = ? WHERE id = ?')
        .run(seen.at, seen.agentVersion, seen.policyVersion, JSON.stringify(seen.status), id),
    );
  }

  async deviceStatus(id: string, at: string, status: DeviceStatus, policyVersion?: number | null): Promise<void> {
    this.write(() => {
      this.db.prepare('UPDATE devices SET last_seen = ?, status = ? WHERE id = ?').run(at, JSON.stringify(status), id);
      if (policyVersion !== undefined) this.db.prepare('UPDATE devices SET policy_version = ? WHERE id = ?').run(policyVersion, id);
    });
  }

  async deviceDisconnected(id: string, at: string): Promise<void> {
    this.write(() => this.db.prepare('UPDATE devices SET online = 0, last_seen = ? WHERE id = ?').run(at, id));
  }

  async revokeDevice(id: string): Promise<boolean> {
    return this.write(() => this.db.prepare('UPDATE devices SET revoked = 1, online = 0 WHERE id = ?').run(id).changes > 0);
  }

  async storeAuditBatch(deviceId: string, records: readonly AuditRecord[]): Promise<BatchResult> {
    const insert = this.db.prepare(
      'INSERT OR IGNORE INTO audit (record_id, device_id, seq, time, principal, decision, provider, model, cost_usd, body, app, user_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const rule = this.db.prepare('INSERT OR IGNORE INTO audit_rules (rule_id, cursor) VALUES (?, ?)');
    const next = this.db.prepare('SELECT body FROM audit WHERE device_id = ? AND seq = ? LIMIT 1').pluck();
    return this.write(() => {
      let inserted = 0;
      for (const r of records) {
        const done = insert.run(...auditColumns(deviceId, r));
        inserted += done.changes;
        if (done.changes > 0) for (const id of ruleIds(r)) rule.run(id, done.lastInsertRowid);
      }
      const row = this.db.prepare('SELECT ack_seq, ack_hash, problem FROM device_chain WHERE device_id = ?').get(deviceId) as
        | { ack_seq: number; ack_hash: string; problem: string | null }
        | undefined;
      const first = records.reduce((a, b) => (b.seq < a.seq ? b : a));
      let state: ChainState = row === undefined ? initialChain(first) : { ackSeq: row.ack_seq, ackHash: row.ack_hash, problem: row.problem };
      const before = state.problem;
      for (;;) {
        const body = next.get(deviceId, state.ackSeq + 1) as string | undefined;
        if (body === undefined) break;
        state = advanceChain(state, JSON.parse(body) as AuditRecord);
      }
      this.db
        .prepare('INSERT INTO device_chain (device_id, ack_seq, ack_hash, problem) VALUES (?, ?, ?, ?) ON CONFLICT (device_id) DO UPDATE SET ack_seq = excluded.ack_seq, ack_hash = excluded.ack_hash, problem = excluded.problem')
        .run(deviceId, state.ackSeq, state.ackHash, state.problem);
      return { ackSeq: state.ackSeq, inserted, chainProblem: state.problem !== before ? state.problem : null };
    });
  }

  async auditAck(deviceId: string): Promise<number> {
    const r = this.db.prepare('SELECT ack_seq FROM device_chain WHERE device_id = ?').pluck().get(deviceId) as number | undefined;
    return r ?? 0;
  }

  async queryAudit(filter: AuditFilter, limit: number, cursor: number | null): Promise<AuditPage> {
    const q = auditPageSql(filter, limit, cursor, sqlitePlaceholder);
    const records = (this.db.prepare(q.sql).all(...q.params) as AuditSqlRow[]).map(toStoredRecord);
    return { records, nextCursor: records.length === limit ? (records.at(-1)?.cursor ?? null) : null };
  }

  async spend(grouping: SpendGrouping, since: string | null, until: string | null): Promise<readonly SpendRow[]> {
    const q = spendSql(grouping, since, until, sqlitePlaceholder);
    const rows = this.db.prepare(q.sql).all(...q.params) as Array<{ key: string; requests: number; cost_usd: number }>;
    return rows.map((r) => ({ key: r.key, requests: r.requests, costUsd: r.cost_usd }));
  }

  async spendByDay(grouping: SpendGrouping, since: string | null, until: string | null): Promise<ReadonlyArray<SpendRow & { readonly day: string }>> {
    const q = spendByDaySql(grouping, since, until, sqlitePlaceholder);
    const rows = this.db.prepare(q.sql).all(...q.params) as Array<{ day: string; key: string; requests: number; cost_usd: number }>;
    return rows.map((r) => ({ day: r.day, key: r.key, requests: r.requests, costUsd: r.cost_usd }));
  }

  async decisionCounts(since: string): Promise<Readonly<Record<string, number>>> {
    const q = decisionCountsSql(since, sqlitePlaceholder, 'INDEXED BY audit_time');
    const rows = this.db.prepare(q.sql).all(...q.params) as Array<{ decision: string; n: number }>;
    return Object.fromEntries(rows.map((r) => [r.decision, r.n]));
  }

  async ruleCounts(since: string, limit: number): Promise<ReadonlyArray<{ id: string; count: number }>> {
    const q = ruleCountsSql(since, limit, sqlitePlaceholder, 'INDEXED BY audit_time');
    return (this.db.prepare(q.sql).all(...q.params) as Array<{ rule: string; n: number }>).map((r) => ({ id: r.rule, count: r.n }));
  }

  async pruneAudit(before: string): Promise<number> {
    return this.write(() =>
      this.db.transaction(() => {
        this.db.prepare('DELETE FROM audit_rules WHERE cursor IN (SELECT cursor FROM audit WHERE time < ?)').run(before);
        return this.db.prepare('DELETE FROM audit WHERE time < ?').run(before).changes;
      })(),
    );
  }

  async reportUsage(deviceId: string, windows: readonly SpendWindow[]): Promise<readonly WindowKey[]> {
    const upsert = this.db.prepare(
      `INSERT INTO usage (device_id, budget_id, period, window_start, spent_usd) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (budget_id, period, window_start, device_id) DO UPDATE SET spent_usd = excluded.spent_usd WHERE excluded.spent_usd > usage.spent_usd`,
    );
    return this.write(() => {
      const changed: WindowKey[] = [];
      for (const w of windows) {
        if (upsert.run(deviceId, w.id, w.period, w.windowStart, w.spentUsd).changes > 0) changed.push({ id: w.id, period: w.period, windowStart: w.windowStart });
      }
      return changed;
    });
  }

  async fleetWindows(keys: readonly WindowKey[] | 'all', sinceMs: number): Promise<readonly FleetWindow[]> {
    return foldWindows(this.db.prepare(fleetRowsSql('?')).all(sinceMs, sinceMs) as FleetSqlRow[], keys);
  }

  async topUpGrant(deviceId: string, key: WindowKey, limitUsd: number, decide: (w: GrantWindow) => number): Promise<number> {
    const rows = this.db.prepare(WINDOW_ROWS_SQL);
    return this.write(() => {
      const p = [key.id, key.period, key.windowStart];
      const cap = decide(grantWindow(rows.all(...p, ...p) as FleetSqlRow[], key, limitUsd));
      this.db
        .prepare('INSERT INTO budget_grants VALUES (?, ?, ?, ?, ?) ON CONFLICT (budget_id, period, window_start, device_id) DO UPDATE SET cap_usd = excluded.cap_usd')
        .run(key.id, key.period, key.windowStart, deviceId, cap);
      return cap;
    });
  }

  async getSetting(name: string): Promise<unknown> {
    const v = this.db.prepare('SELECT value FROM settings WHERE name = ?').pluck().get(name) as string | undefined;
    return v === undefined ? undefined : JSON.parse(v);
  }

  async setSetting(name: string, value: unknown): Promise<void> {
    this.write(() => this.db.prepare('INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value').run(name, JSON.stringify(value)));
  }

  async addCommand(c: CommandRow): Promise<void> {
    this.write(() =>
      this.db
        .prepare('INSERT INTO commands (id, issued_at, scope, scope_key, action, kind) VALUES (?, ?, ?, ?, ?, ?)')
        .run(c.id, c.issuedAt, JSON.stringify(c.scope), scopeKey(c.scope), JSON.stringify(c.action), c.action.kind),
    );
  }

  async command(id: string): Promise<CommandRow | null> {
    const r = this.db.prepare('SELECT id, issued_at, scope, action FROM commands WHERE id = ?').get(id) as CommandSqlRow | undefined;
    return r === undefined ? null : toCommand(r);
  }

  async commandsInForce(): Promise<readonly CommandRow[]> {
    const rows = this.db
      .prepare(
        `SELECT id, issued_at, scope, action FROM commands WHERE kind = 'revoke-virtual-key'
         UNION ALL
         SELECT c.id, c.issued_at, c.scope, c.action FROM commands c
           WHERE c.kind = 'kill-switch' AND c.issued_at = (SELECT MAX(k.issued_at) FROM commands k WHERE k.kind = 'kill-switch' AND k.scope_key = c.scope_key)
         ORDER BY issued_at, id`,
      )
      .all() as CommandSqlRow[];
    return rows.map(toCommand);
  }

  async commandResult(id: string, deviceId: string, ok: boolean, error: string | null, at: string): Promise<void> {
    this.write(() =>
      this.db
        .prepare('INSERT INTO command_results VALUES (?, ?, ?, ?, ?) ON CONFLICT (command_id, device_id) DO UPDATE SET ok = excluded.ok, error = excluded.error, at = excluded.at')
        .run(id, deviceId, ok ? 1 : 0, error, at),
    );
  }

  async commandResults(id: string): Promise<readonly CommandResultRow[]> {
    const rows = this.db.prepare('SELECT device_id, ok, error, at FROM command_results WHERE command_id = ? ORDER BY at').all(id) as Array<{ device_id: string; ok: number; error: string | null; at: string }>;
    return rows.map((r) => ({ deviceId: r.device_id, ok: r.ok === 1, error: r.error, at: r.at }));
  }

  async addAdminEvent(e: AdminEvent): Promise<void> {
    this.write(() => this.db.prepare('INSERT INTO admin_events (time, who, action, detail, before_state, after_state) VALUES (?, ?, ?, ?, ?, ?)').run(...adminEventColumns(e)));
  }

  async listAdminEvents(limit: number, cursor: number | null): Promise<AdminEventPage> {
    const rows = this.db
      .prepare(`SELECT ${ADMIN_EVENT_COLUMNS} FROM admin_events WHERE id < ? ORDER BY id DESC LIMIT ?`)
      .all(cursor ?? Number.MAX_SAFE_INTEGER, limit + 1) as AdminEventSqlRow[];
    return adminEventPage(rows, limit);
  }

  async addSession(session: ConsoleSessionRow): Promise<void> {
    this.write(() =>
      this.db.transaction(() => {
        this.db.prepare('DELETE FROM console_sessions WHERE expires_at <= ?').run(session.createdAt);
        this.db.prepare('INSERT INTO console_sessions VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(...sessionColumns(session));
      })(),
    );
  }

  async session(idSha256: string, now: Date): Promise<ConsoleSessionRow | null> {
    const row = this.db.prepare('SELECT * FROM console_sessions WHERE id_sha256 = ? AND expires_at > ?').get(idSha256, now.toISOString()) as SessionSqlRow | undefined;
    return row === undefined ? null : toSession(row);
  }

  async deleteSession(idSha256: string): Promise<boolean> {
    return this.write(() => this.db.prepare('DELETE FROM console_sessions WHERE id_sha256 = ?').run(idSha256).changes > 0);
  }

  async publish(change: StoreChange): Promise<void> {
    // Asynchronously, as a NOTIFY arrives: the writer's own request finishes first.
    setImmediate(() => this.changes.emit('change', change));
  }

  onChange(listener: (change: StoreChange) => void): () => void {
    this.changes.on('change', listener);
    return () => this.changes.off('change', listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.changes.removeAllListeners();
    this.db.close();
  }
}
