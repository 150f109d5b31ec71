/**
 * The audit queries' SQL, written once for both stores (they differ only in how parameters are
 * written: `?` in SQLite, `$1` in PostgreSQL). Pages are keyset-paged on the gateway's own row
 * number, newest first, so a page costs the same however deep the admin scrolls.
 */
import type { AuditFilter, SpendGrouping } from './queries.js';
import { utc } from './rows.js';

/**
 * The indexes the console's audit filters page by, the same in both stores: newest first by cursor
 * within one value (keyset per filter), so a rare user, decision or model does not scan back
 * through every newer record.
 */
export const AUDIT_FILTER_INDEXES = `
  CREATE INDEX audit_principal_cursor ON audit (principal, cursor);
  CREATE INDEX audit_decision_cursor ON audit (decision, cursor);
  CREATE INDEX audit_provider_cursor ON audit (provider, cursor);
  CREATE INDEX audit_model_cursor ON audit (model, cursor);
  CREATE INDEX audit_device_cursor ON audit (device_id, cursor);
`;

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
  if (filter.app !== undefined) add('a.app', '=', filter.app);
  if (filter.user !== undefined) add('a.user_name', '=', filter.user);
  if (filter.rule !== undefined) {
    params.push(filter.rule);
    clauses.push(`a.cursor IN (SELECT r.cursor FROM audit_rules r WHERE r.rule_id = ${ph(params.length)})`);
  }
  if (filter.since !== undefined) add('a.time', '>=', utc(filter.since));
  if (filter.until !== undefined) add('a.time', '<', utc(filter.until));
  return clauses.length === 0 ? '' : `WHERE ${clauses.join(' AND ')}`;
}

/**
 * One page of records matching `filter`, older than `cursor` (exclusive), newest first. With a rule
 * the page walks that rule's rows of `audit_rules` backwards from the cursor (its primary key) and
 * joins each record, instead of testing every newer record.
 */
export function auditPageSql(filter: AuditFilter, limit: number, cursor: number | null, ph: Placeholder): Built {
  const params: unknown[] = [];
  const extra: string[] = [];
  const { rule, ...rest } = filter;
  const key = rule === undefined ? 'a.cursor' : 'r.cursor';
  if (rule !== undefined) {
    params.push(rule);
    extra.push(`r.rule_id = ${ph(params.length)}`);
  }
  if (cursor !== null) {
    params.push(cursor);
    extra.push(`${key} < ${ph(params.length)}`);
  }
  const w = where(rest, ph, params, extra);
  params.push(limit);
  const from = rule === undefined ? 'audit a' : 'audit_rules r JOIN audit a ON a.cursor = r.cursor';
  return { sql: `SELECT a.cursor, a.device_id, a.body FROM ${from} ${w} ORDER BY ${key} DESC LIMIT ${ph(params.length)}`, params };
}

/**
 * Records per decision since a time (the console's overview): one range scan of the time index,
 * grouped. `timeIndex` is SQLite's `INDEXED BY audit_time`: its planner otherwise walks the whole
 * decision index for the GROUP BY (1.7 s instead of 17 ms at a million records, `npm run bench`);
 * PostgreSQL's planner needs no hint.
 */
export function decisionCountsSql(since: string, ph: Placeholder, timeIndex = ''): Built {
  const params: unknown[] = [];
  const w = where({ since }, ph, params);
  return { sql: `SELECT a.decision AS decision, COUNT(*) AS n FROM audit a ${timeIndex} ${w} GROUP BY a.decision`, params };
}

/** The rules that fired most since a time (the console's overview): records per rule id, most first. */
export function ruleCountsSql(since: string, limit: number, ph: Placeholder, timeIndex = ''): Built {
  const params: unknown[] = [];
  const w = where({ since }, ph, params);
  params.push(limit);
  return { sql: `SELECT r.rule_id AS rule, COUNT(*) AS n FROM audit a ${timeIndex} JOIN audit_rules r ON r.cursor = a.cursor ${w} GROUP BY r.rule_id ORDER BY n DESC, r.rule_id LIMIT ${ph(params.length)}`, params };
}

/** What spend is grouped by: the key column, the tables, the rows that count. */
function spendGrouping(grouping: SpendGrouping): { key: string; from: string; extra: string[] } {
  const extra = ['a.cost_usd IS NOT NULL'];
  switch (grouping) {
    case 'principal':
      return { key: 'a.principal', from: 'audit a', extra: [...extra, 'a.principal IS NOT NULL'] };
    case 'virtualKey':
      return { key: 'a.principal', from: 'audit a', extra: [...extra, "a.principal LIKE 'vk:%'"] };
    case 'team':
      return { key: 'd.team', from: 'audit a JOIN devices d ON d.id = a.device_id', extra: [...extra, 'd.team IS NOT NULL'] };
    default: {
      const never: never = grouping;
      throw new Error(`unknown grouping ${String(never)}`);
    }
  }
}

function timeFilter(since: string | null, until: string | null): AuditFilter {
  return { ...(since === null ? {} : { since }), ...(until === null ? {} : { until }) };
}

/** Spend grouped by principal, virtual key (principals `vk:…`) or the device's team. */
export function spendSql(grouping: SpendGrouping, since: string | null, until: string | null, ph: Placeholder): Built {
  const params: unknown[] = [];
  const { key, from, extra } = spendGrouping(grouping);
  const w = where(timeFilter(since, until), ph, params, extra);
  return { sql: `SELECT ${key} AS key, COUNT(*) AS requests, SUM(a.cost_usd) AS cost_usd FROM ${from} ${w} GROUP BY ${key} ORDER BY cost_usd DESC`, params };
}

/** The same spend per UTC day (ISO times start with the date in both stores), oldest day first. */
export function spendByDaySql(grouping: SpendGrouping, since: string | null, until: string | null, ph: Placeholder): Built {
  const params: unknown[] = [];
  const { key, from, extra } = spendGrouping(grouping);
  const w = where(timeFilter(since, until), ph, params, extra);
  return { sql: `SELECT substr(a.time, 1, 10) AS day, ${key} AS key, COUNT(*) AS requests, SUM(a.cost_usd) AS cost_usd FROM ${from} ${w} GROUP BY substr(a.time, 1, 10), ${key} ORDER BY day, cost_usd DESC`, params };
}
