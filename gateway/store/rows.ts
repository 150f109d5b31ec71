/**
 * Row mapping shared by the SQLite and PostgreSQL stores: both use the same column names, so a row
 * read from either becomes the same `DeviceRow`, `CommandRow` or `StoredRecord` here.
 */
import type { AuditRecord } from '../../shared/schema/audit.js';
import { deviceStatus, type CommandScope } from '../../shared/schema/protocol.js';
import { consoleRole, signInMethod } from '../../shared/schema/console.js';
import type { AdminEvent, AdminEventPage, CommandRow, ConsoleSessionRow, DeviceRow, StoredAdminEvent, StoredRecord } from './store.js';

/** A `devices` row joined with `device_chain`. */
export interface DeviceSqlRow {
  id: string;
  hostname: string;
  os_user: string;
  os: string;
  arch: string;
  agent_version: string;
  team: string | null;
  user_name: string | null;
  enrolled_at: string;
  last_seen: string | null;
  online: number | boolean;
  policy_version: number | null;
  status: string | null;
  revoked: number | boolean;
  ack_seq: number | string | null;
  problem: string | null;
}

/** The columns of `DeviceSqlRow`, for SELECTs. */
export const DEVICE_COLUMNS =
  'd.id, d.hostname, d.os_user, d.os, d.arch, d.agent_version, d.team, d.user_name, d.enrolled_at, d.last_seen, d.online, d.policy_version, d.status, d.revoked, c.ack_seq, c.problem';

/** The FROM clause that goes with `DEVICE_COLUMNS`. */
export const DEVICE_FROM = 'devices d LEFT JOIN device_chain c ON c.device_id = d.id';

export function toDevice(r: DeviceSqlRow): DeviceRow {
  const status = r.status === null ? null : deviceStatus.safeParse(JSON.parse(r.status));
  return {
    id: r.id,
    hostname: r.hostname,
    osUser: r.os_user,
    os: r.os,
    arch: r.arch,
    agentVersion: r.agent_version,
    team: r.team,
    user: r.user_name,
    enrolledAt: r.enrolled_at,
    lastSeen: r.last_seen,
    online: Boolean(r.online),
    policyVersion: r.policy_version,
    status: status?.success ? status.data : null,
    revoked: Boolean(r.revoked),
    ackSeq: Number(r.ack_seq ?? 0),
    chainProblem: r.problem,
  };
}

/** A `commands` row. */
export interface CommandSqlRow {
  id: string;
  issued_at: string;
  scope: string;
  action: string;
}

export function toCommand(r: CommandSqlRow): CommandRow {
  return { id: r.id, issuedAt: r.issued_at, scope: JSON.parse(r.scope) as CommandRow['scope'], action: JSON.parse(r.action) as CommandRow['action'] };
}

/** One key per scope, so the newest kill switch of each scope is found by a GROUP BY. */
export function scopeKey(scope: CommandScope): string {
  switch (scope.kind) {
    case 'device':
      return `device:${scope.deviceId}`;
    case 'team':
      return `team:${scope.team}`;
    case 'everyone':
      return 'everyone';
    default: {
      const never: never = scope;
      return never;
    }
  }
}

/** An `audit` row as queried. */
export interface AuditSqlRow {
  cursor: number | string;
  device_id: string;
  body: string;
}

export function toStoredRecord(r: AuditSqlRow): StoredRecord {
  return { cursor: Number(r.cursor), deviceId: r.device_id, record: JSON.parse(r.body) as AuditRecord };
}

/** The stored columns of a record (the filterable copies beside its JSON body). */
export function auditColumns(deviceId: string, r: AuditRecord): unknown[] {
  return [r.id, deviceId, r.seq, r.time, r.principal, r.decision, r.provider, r.model, r.costUsd, JSON.stringify(r), r.app, r.user];
}

/** The ids of the rules a record fired, once each (the `audit_rules` rows of its cursor). */
export function ruleIds(r: AuditRecord): string[] {
  return [...new Set(r.rules.map((x) => x.id))];
}

/** Normalises an ISO time with any offset to the `toISOString` form records use, so text order is time order. */
export function utc(time: string): string {
  return new Date(time).toISOString();
}

/** An `admin_events` row. */
export interface AdminEventSqlRow {
  id: number | string;
  time: string;
  who: string;
  action: string;
  detail: string;
  before_state: string | null;
  after_state: string | null;
}

/** The columns of `AdminEventSqlRow`, for SELECTs. */
export const ADMIN_EVENT_COLUMNS = 'id, time, who, action, detail, before_state, after_state';

export function toAdminEvent(r: AdminEventSqlRow): StoredAdminEvent {
  return {
    id: Number(r.id),
    time: r.time,
    who: r.who,
    action: r.action,
    detail: JSON.parse(r.detail) as Record<string, unknown>,
    before: r.before_state === null ? null : (JSON.parse(r.before_state) as unknown),
    after: r.after_state === null ? null : (JSON.parse(r.after_state) as unknown),
  };
}

/** The values of an `admin_events` INSERT (time, who, action, detail, before_state, after_state). */
export function adminEventColumns(e: AdminEvent): unknown[] {
  const json = (v: unknown): string | null => (v === null || v === undefined ? null : JSON.stringify(v));
  return [e.time, e.who, e.action, JSON.stringify(e.detail), json(e.before), json(e.after)];
}

/** A `console_sessions` row. */
export interface SessionSqlRow {
  id_sha256: string;
  user_name: string;
  roles: string;
  teams: string;
  csrf_token: string;
  via: string;
  created_at: string;
  expires_at: string;
}

/** The values of a `console_sessions` INSERT, in column order. */
export function sessionColumns(s: ConsoleSessionRow): unknown[] {
  return [s.idSha256, s.user, JSON.stringify(s.roles), JSON.stringify(s.teams), s.csrfToken, s.via, s.createdAt, s.expiresAt];
}

export function toSession(r: SessionSqlRow): ConsoleSessionRow {
  return {
    idSha256: r.id_sha256,
    user: r.user_name,
    // Parsed, not cast: a role the gateway no longer knows must not become one it grants.
    roles: consoleRole.array().parse(JSON.parse(r.roles)),
    teams: (JSON.parse(r.teams) as unknown[]).map(String),
    csrfToken: r.csrf_token,
    via: signInMethod.parse(r.via),
    createdAt: r.created_at,
    expiresAt: r.expires_at,
  };
}

/** A page from `limit + 1` rows read newest first (the extra row only says there is more). */
export function adminEventPage(rows: readonly AdminEventSqlRow[], limit: number): AdminEventPage {
  const events = rows.slice(0, limit).map(toAdminEvent);
  return { events, nextCursor: rows.length > limit ? (events.at(-1)?.id ?? null) : null };
}
