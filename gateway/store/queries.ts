/**
 * The questions the gateway store answers about audit records and spend, as zod schemas: the store
 * defines what it can filter and group by; the admin API (gateway/admin-api/schemas.ts) extends these
 * for its query strings, so the store imports nothing from the API above it.
 */
import { z } from 'zod';
import { decision } from '../../shared/schema/audit.js';

/** An ISO 8601 time with offset, as query strings carry it. */
export const isoTime = z.iso.datetime({ offset: true, message: 'expected an ISO 8601 time such as 2026-12-04T09:00:00Z' });

/** `GET /admin/v1/audit` and `/admin/v1/audit/export` filters. */
export const auditFilter = z.strictObject({
  device: z.string().min(1).optional(),
  principal: z.string().min(1).optional(),
  decision: decision.optional(),
  provider: z.string().min(1).optional(),
  model: z.string().min(1).optional(),
  /** The record's user, exactly (the OS user, or `user:<email>` for a device signed in through SSO). */
  user: z.string().min(1).max(512).optional(),
  /** The app as recorded (its User-Agent), exactly. */
  app: z.string().min(1).max(512).optional(),
  /** A rule that fired (its id). */
  rule: z.string().min(1).max(256).optional(),
  since: isoTime.optional(),
  until: isoTime.optional(),
});
export type AuditFilter = z.infer<typeof auditFilter>;

/** How spend is grouped. */
export const SPEND_GROUPINGS = ['principal', 'virtualKey', 'team'] as const;
export const spendGrouping = z.enum(SPEND_GROUPINGS);
export type SpendGrouping = z.infer<typeof spendGrouping>;
