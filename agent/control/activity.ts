/**
 * `GET /v1/activity`: the latest requests from the audit store, newest first, paged by sequence
 * (keyset: `before` is the last `seq` seen, so a page costs one index range read however deep).
 * Each item carries what the tray shows: the rule, its explanation and what the person can do.
 * Prompts, outputs and headers stay in the store.
 */
import type { Db } from '../store/database.js';
import { rowToRecord, type AuditRow } from '../audit/records.js';
import type { AuditRecord } from '../../shared/schema/audit.js';
import type { ActivityItem, ActivityPage, ActivityQuery } from '../../shared/schema/control.js';

/** What to tell a person about a refused or changed request, in plain words (no codes). */
export function adviceFor(record: Pick<AuditRecord, 'decision' | 'status' | 'rules'>): string | null {
  const { decision, status, rules } = record;
  if (decision === 'allow') return null;
  if (decision === 'redact') return 'The sensitive part was replaced before it left this computer. Nothing to do; check the answer still makes sense.';
  if (decision === 'warn') return 'The request went through, but a company rule flagged it. Check what you shared.';
  if (decision === 'error') return 'The AI service could not be reached or answered with an error. Try again in a moment; if it keeps failing, run the diagnostics.';
  if (status === 402) return 'The AI budget for this period is used up. It resets when the period ends; ask your IT team if you need more.';
  if (status === 429) return 'Too many requests in a short time. Wait a minute and try again.';
  if (status === 401) return 'This request needs the key your IT team gave you. Choose it in the Outpost menu or ask IT for one.';
  const guard = rules.find((r) => r.target !== 'request' && (r.action === 'block' || r.action === 'deny'));
  if (guard !== undefined) {
    const side = guard.target === 'output' ? 'The answer' : 'Your message';
    return `${side} contained something company policy does not allow to be shared with AI services. Remove it and try again; if you think this is a mistake, ask your IT team about the rule "${guard.id}".`;
  }
  return "This AI service or model is not approved by your company. Use an approved one, or ask your IT team if you need it.";
}

/** One audit record as an activity item. */
export function toActivityItem(r: AuditRecord): ActivityItem {
  return {
    seq: r.seq,
    time: r.time,
    app: r.app,
    host: r.host,
    provider: r.provider,
    model: r.model,
    decision: r.decision,
    rules: r.rules.map((rule) => ({ id: rule.id, action: rule.action, explanation: rule.explanation })),
    advice: adviceFor(r),
    inputTokens: r.inputTokens,
    outputTokens: r.outputTokens,
    costUsd: r.costUsd,
    latencyMs: r.latencyMs,
  };
}

/** Reads one page of activity (newest first). */
export function readActivity(db: Db, query: ActivityQuery): ActivityPage {
  const rows = db
    .prepare('SELECT seq, body, prev_hash, hash FROM audit WHERE seq < ? ORDER BY seq DESC LIMIT ?')
    .all(query.before ?? Number.MAX_SAFE_INTEGER, query.limit + 1) as AuditRow[];
  const more = rows.length > query.limit;
  const items = rows.slice(0, query.limit).map((row) => toActivityItem(rowToRecord(row)));
  return { items, nextBefore: more ? (items.at(-1)?.seq ?? null) : null };
}
