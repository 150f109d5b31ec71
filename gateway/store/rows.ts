/**
 * Row mapping shared by the SQLite and PostgreSQL stores: both use the same column names, so a row
 * read from either becomes the same `DeviceRow`, `CommandRow` or `StoredRecord` here.
 */
import type { AuditRecord } from '../../shared/schema/audit.js';
import { deviceStatus, type CommandScope } from '../../shared/schema/protocol.js';
import type { CommandRow, DeviceRow, StoredRecord } from './store.js';

/** A `devices` row joined with `device_chain`. */
export interface DeviceSqlRow {
  id: string;
  hostname: string;
  os_user: string;
  os: string;
  arch: string;
  agent_version: string;
  team: string | null;
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
  'd.id, d.hostname, d.os_user, d.os, d.arch, d.agent_version, d.team, d.enrolled_at, d.last_seen, d.online, d.policy_version, d.status, d.revoked, c.ack_seq, c.problem';

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
  return [r.id, deviceId, r.seq, r.time, r.principal, r.decision, r.provider, r.model, r.costUsd, JSON.stringify(r)];
}

/** Normalises an ISO time with any offset to the `toISOString` form records use, so text order is time order. */
export function utc(time: string): string {
  return new Date(time).toISOString();
}
