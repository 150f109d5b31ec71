/**
 * The audit queries' SQL, written once for both stores (they differ only in how parameters are
 * written: `?` in SQLite, `$1` in PostgreSQL). Pages are keyset-paged on the gateway's own row
 * number, newest first, so a page costs the same however deep the admin scrolls.
 */
import type { AuditFilter, SpendGrouping } from '../admin-api/schemas.js';
import { utc } from './rows.js';

/** A parameter placeholder for the n-th (1-based) parameter. */
export type Placeholder = (n: number) => string;

export const sqlitePlaceholder: Placeholder = () => '?';
export const postgresPlaceholder: Placeholder = (n) => `$${n}`;

interface Built {
  readonly sql: string;
  readonly params: unknown[];
}

function where(filter: AuditFilter, ph: Placeholder, params: unknown[], extra: string[] = []): string {
  const clauses = [...extra];
  const add = (column: string, op: string, value: unknown): void => {
    params.push(value);
    clauses.push(`${column} ${op} ${ph(params.length)}`);
  };
  if (filter.device !== undefined) add('a.device_id', '=', filter.device);
  if (filter.principal !== undefined) add('a.principal', '=', filter.principal);
  if (filter.decision !== undefined) add('a.decision', '=', filter.decision);
  if (filter.provider !== undefined) add('a.provider', '=', filter.provider);
  if (filter.model !== undefined) add('a.model', '=', filter.model);
  if (filter.since !== undefined) add('a.time', '>=', utc(filter.since));
  if (filter.until !== undefined) add('a.time', '<', utc(filter.until));
  return clauses.length === 0 ? '' : `WHERE ${clauses.join(' AND ')}`;
}

/** One page of records matching `filter`, older than `cursor` (exclusive), newest first. */
export function auditPageSql(filter: AuditFilter, limit: number, cursor: number | null, ph: Placeholder): Built {
  const params: unknown[] = [];
  const extra: string[] = [];
  if (cursor !== null) {
    params.push(cursor);
    extra.push(`a.cursor < ${ph(params.length)}`);
  }
  const w = where(filter, ph, params, extra);
  params.push(limit);
  return { sql: `SELECT a.cursor, a.device_id, a.body FROM audit a ${w} ORDER BY a.cursor DESC LIMIT ${ph(params.length)}`, params };
}

/** Records per decision since a time (the console's overview): one indexed range scan, grouped. */
export function decisionCountsSql(since: string, ph: Placeholder): Built {
  const params: unknown[] = [];
  const w = where({ since }, ph, params);
  return { sql: `SELECT a.decision AS decision, COUNT(*) AS n FROM audit a ${w} GROUP BY a.decision`, params };
}

/** Spend grouped by principal, virtual key (principals `vk:…`) or the device's team. */
export function spendSql(grouping: SpendGrouping, since: string | null, until: string | null, ph: Placeholder): Built {
  const params: unknown[] = [];
  const extra = ['a.cost_usd IS NOT NULL'];
  let key: string;
  let from = 'audit a';
  switch (grouping) {
    case 'principal':
      key = 'a.principal';
      extra.push('a.principal IS NOT NULL');
      break;
    case 'virtualKey':
      key = 'a.principal';
      extra.push("a.principal LIKE 'vk:%'");
      break;
    case 'team':
      key = 'd.team';
      from = 'audit a JOIN devices d ON d.id = a.device_id';
      extra.push('d.team IS NOT NULL');
      break;
    default: {
      const never: never = grouping;
      throw new Error(`unknown grouping ${String(never)}`);
    }
  }
  const filter: AuditFilter = { ...(since === null ? {} : { since }), ...(until === null ? {} : { until }) };
  const w = where(filter, ph, params, extra);
  return { sql: `SELECT ${key} AS key, COUNT(*) AS requests, SUM(a.cost_usd) AS cost_usd FROM ${from} ${w} GROUP BY ${key} ORDER BY cost_usd DESC`, params };
}
