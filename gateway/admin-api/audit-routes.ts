/**
 * `/admin/v1/audit` (filtered, keyset-paged, newest first), `/admin/v1/audit/export` (the same
 * filters streamed as NDJSON or CSV page by page, never the whole result in memory), `/admin/v1/spend`
 * and the admin audit trail `/admin/v1/admin-audit`.
 */
import type { ServerResponse } from 'node:http';
import { parseInput } from '../http/errors.js';
import { queryObject, sendJson } from '../http/io.js';
import { csvHeader, toCsvRow, toJsonLine } from '../../shared/audit/export.js';
import { adminAuditQuery, auditExportQuery, auditQuery, overviewQuery, spendQuery } from './schemas.js';
import type { AdminDeps, AdminRoute } from './context.js';

/** Rules the overview lists (those that fired in the most records). */
const TOP_RULES = 8;

/** Records per page of an export: bounded memory whatever the result's size. */
const EXPORT_PAGE = 500;

/** Writes `text`, waiting for the socket to drain when its buffer is full. */
async function write(res: ServerResponse, text: string): Promise<void> {
  if (!res.write(text)) await new Promise<void>((resolve) => res.once('drain', resolve));
}

export function auditRoutes(deps: AdminDeps): AdminRoute[] {
  return [
    {
      method: 'GET',
      path: '/admin/v1/audit',
      handle: async ({ res, query }) => {
        const { limit, cursor, ...filter } = parseInput(auditQuery, queryObject(query), 'the query');
        const page = await deps.store.queryAudit(filter, limit, cursor ?? null);
        sendJson(res, 200, { records: page.records.map((r) => ({ deviceId: r.deviceId, ...r.record })), nextCursor: page.nextCursor });
      },
    },
    {
      method: 'GET',
      path: '/admin/v1/audit/export',
      handle: async ({ res, query }) => {
        const { format, ...filter } = parseInput(auditExportQuery, queryObject(query), 'the query');
        res.writeHead(200, {
          'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson',
          'content-disposition': `attachment; filename="outpost-audit.${format === 'csv' ? 'csv' : 'ndjson'}"`,
          'cache-control': 'no-store',
        });
        if (format === 'csv') await write(res, csvHeader());
        let cursor: number | null = null;
        do {
          const page = await deps.store.queryAudit(filter, EXPORT_PAGE, cursor);
          for (const r of page.records) await write(res, format === 'csv' ? toCsvRow(r.record) : toJsonLine(r.record));
          cursor = page.nextCursor;
        } while (cursor !== null && !res.destroyed);
        res.end();
      },
    },
    {
      method: 'GET',
      path: '/admin/v1/overview',
      // The console's first page: records per decision since a time (default: midnight UTC today).
      handle: async ({ res, query }) => {
        const q = parseInput(overviewQuery, Object.fromEntries(query), 'the query');
        const since = q.since ?? `${new Date().toISOString().slice(0, 10)}T00:00:00.000Z`;
        const [decisions, rules] = await Promise.all([deps.store.decisionCounts(since), deps.store.ruleCounts(since, TOP_RULES)]);
        sendJson(res, 200, { since, decisions, rules });
      },
    },
    {
      method: 'GET',
      path: '/admin/v1/spend',
      handle: async ({ res, query }) => {
        const q = parseInput(spendQuery, queryObject(query), 'the query');
        if (q.per === 'day') sendJson(res, 200, { by: q.by, per: 'day', rows: await deps.store.spendByDay(q.by, q.since ?? null, q.until ?? null) });
        else sendJson(res, 200, { by: q.by, rows: await deps.store.spend(q.by, q.since ?? null, q.until ?? null) });
      },
    },
    {
      method: 'GET',
      path: '/admin/v1/admin-audit',
      handle: async ({ res, query }) => {
        const q = parseInput(adminAuditQuery, queryObject(query), 'the query');
        sendJson(res, 200, await deps.store.listAdminEvents(q.limit, q.cursor ?? null));
      },
    },
  ];
}
