/**
 * Audit export formats: JSON Lines (one record per line, every field, the chain included so a
 * verifier can recompute it) and CSV (RFC 4180, one column per field, for spreadsheets and SIEMs),
 * and the one-line text form `outpost audit tail` prints.
 */
import { auditRecord, type AuditRecord } from '../schema/audit.js';

/** Export formats. */
export const EXPORT_FORMATS = ['jsonl', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** CSV columns: the record schema's fields in order (seq, prevHash and hash last). */
export const CSV_COLUMNS = Object.keys(auditRecord.shape) as ReadonlyArray<keyof AuditRecord>;

/** One JSON Lines line (with its newline). */
export function toJsonLine(record: AuditRecord): string {
  return `${JSON.stringify(record)}\n`;
}

/** The CSV header line. */
export function csvHeader(): string {
  return `${CSV_COLUMNS.join(',')}\r\n`;
}

/**
 * One CSV cell. Arrays and objects (rules, headers) become JSON. A cell that a spreadsheet would run
 * as a formula (starting with = + - @, tab or CR) gets a leading apostrophe: prompts are user text.
 */
function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One CSV row (with its CRLF). */
export function toCsvRow(record: AuditRecord): string {
  return `${CSV_COLUMNS.map((c) => csvCell(record[c])).join(',')}\r\n`;
}

/** The record as one line for people: sequence, time, decision, status, host, model, who, cost. */
export function toTextLine(r: AuditRecord): string {
  const rules = r.rules.length > 0 ? ` rules=${r.rules.map((x) => x.id).join(',')}` : '';
  const cost = r.costUsd === null ? '' : ` $${r.costUsd.toFixed(6)}`;
  const tokens = r.inputTokens === null && r.outputTokens === null ? '' : ` ${r.inputTokens ?? '?'}→${r.outputTokens ?? '?'} tok`;
  return `#${r.seq} ${r.time} ${r.decision.padEnd(6)} ${r.status ?? '-'} ${r.host}${r.door === 'transparent' ? ' [transparent]' : ''}${r.endpoint ? ` ${r.endpoint}` : ''}${r.model ? ` ${r.model}` : ''} ${r.principal ?? r.user}${r.app ? ` (${r.app})` : ''}${tokens}${cost}${rules}${r.error ? ` error="${r.error}"` : ''}`;
}

/**
 * Parses a `--since`/`--until` value: an ISO 8601 date or time, or a duration back from `now`
 * (`90m`, `24h`, `7d`). Returns an ISO time, or throws naming the valid forms.
 */
export function parseTimeBound(value: string, now: Date = new Date()): string {
  const rel = /^(\d+)([smhd])$/.exec(value.trim());
  if (rel) {
    const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[rel[2] as 's' | 'm' | 'h' | 'd'];
    return new Date(now.getTime() - Number(rel[1]) * unit).toISOString();
  }
  const t = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(t)) throw new Error(`"${value}" is not a time: expected an ISO 8601 date or time (2026-11-26, 2026-11-26T09:00:00Z) or a duration back from now (90m, 24h, 7d)`);
  return new Date(t).toISOString();
}
