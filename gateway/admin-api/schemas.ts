/**
 * Admin API inputs (`/admin/v1/*`): one zod schema per request body or query string. Query values
 * arrive as strings; the schemas convert them and say what was expected.
 */
import { z } from 'zod';
import { commandAction, commandScope } from '../../shared/schema/protocol.js';
import { auditFilter, isoTime, spendGrouping } from '../store/queries.js';

/** `POST /admin/v1/policy/rollback`. */
export const rollbackRequest = z.strictObject({ version: z.number().int().positive() });

/** `POST /admin/v1/enrollment-tokens`. */
export const enrollmentTokenRequest = z
  .strictObject({
    /** Bind the enrolled devices to a team (team budgets, team commands). */
    team: z.string().min(1).max(128).nullable().default(null),
    /** How long the token stays usable; at most 30 days. */
    expiresInMinutes: z.number().int().positive().max(43_200).default(1440),
  })
  .prefault({});

/** `GET /admin/v1/audit`: filters plus keyset paging (newest first). */
/** `GET /admin/v1/admin-audit`: newest first, keyset-paged. */
export const adminAuditQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  /** The `nextCursor` of the previous page. */
  cursor: z.coerce.number().int().positive().optional(),
});

export const auditQuery = auditFilter.extend({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  /** The `nextCursor` of the previous page. */
  cursor: z.coerce.number().int().nonnegative().optional(),
});

/** `GET /admin/v1/audit/export`. */
export const auditExportQuery = auditFilter.extend({ format: z.enum(['ndjson', 'csv']).default('ndjson') });

/** `GET /admin/v1/overview`. */
export const overviewQuery = z.strictObject({ since: isoTime.optional() });

/** `GET /admin/v1/spend`. */
export const spendQuery = z.strictObject({
  by: spendGrouping.default('principal'),
  /** `day`: one row per UTC day and key (spend over time). */
  per: z.enum(['day']).optional(),
  since: isoTime.optional(),
  until: isoTime.optional(),
});

/** `PUT /admin/v1/settings/retention`: how long the gateway keeps audit records. */
export const retentionSetting = z.strictObject({ days: z.number().int().min(1).max(3650) });
export type RetentionSetting = z.infer<typeof retentionSetting>;

/** `POST /admin/v1/commands`. */
export const commandRequest = z.strictObject({ scope: commandScope, action: commandAction });
