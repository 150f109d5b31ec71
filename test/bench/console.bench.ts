/**
 * The console's audit table at a million records (issue 17.1): the gateway's SQLite store seeded
 * with 1,000,000 records over 30 days (5% blocked), then the admin API as the console calls it: the
 * first page, the next pages (keyset: following `nextCursor` 20 pages deep), the same filtered by
 * decision (rare: blocks) and by principal, and the overview's count of today's decisions. p50 and
 * p95 per call over repeated rounds, through real HTTP. `BENCH_AUDIT_RECORDS` changes the count.
 */
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { startTestGateway } from '../support/gateway.js';
import type { BenchSection } from './types.js';

const RECORDS = Number(process.env.BENCH_AUDIT_RECORDS ?? 1_000_000);
const ROUNDS = 15;
const DAY = 86_400_000;

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round((sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN) * 100) / 100;
}

/** Writes `RECORDS` rows straight into the store's audit table (what uploads would have stored). */
function seed(file: string): number {
  const db = new Database(file);
  const start = performance.now();
  const insert = db.prepare('INSERT INTO audit (record_id, device_id, seq, time, principal, decision, provider, model, cost_usd, body, app) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  const rule = db.prepare('INSERT INTO audit_rules (rule_id, cursor) VALUES (?, ?)');
  const now = Date.now();
  const many = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const device = `dev-${i % 200}`;
      const blocked = i % 20 === 0;
      const time = new Date(now - 30 * DAY + Math.floor((i / RECORDS) * 30 * DAY)).toISOString();
      const principal = `user:person${i % 500}@acme.example`;
      const record = { id: crypto.randomUUID(), time, kind: 'request', device, user: `person${i % 500}@acme.example`, app: 'OpenAI/JS 6.49.0', host: 'api.openai.com', provider: 'openai', endpoint: 'chat.completions', method: 'POST', model: 'gpt-4o-mini', stream: false, principal, decision: blocked ? 'block' : 'allow', rules: blocked ? [{ id: 'no-cloud-keys', kind: 'secrets', action: 'block', target: 'input', explanation: 'found an AWS access key ID in the prompt' }] : [], status: blocked ? 403 : 200, error: null, latencyMs: 210, ttfbMs: null, inputTokens: 12, outputTokens: 30, cachedTokens: 0, tokensEstimated: false, costUsd: blocked ? null : 0.00002, priceVersion: null, prompt: null, output: null, headers: {}, seq: Math.floor(i / 200) + 1, prevHash: '0'.repeat(64), hash: '0'.repeat(64) };
      const app = i % 50 === 0 ? 'claude-cli/2.0.14' : record.app;
      const done = insert.run(record.id, device, record.seq, time, principal, record.decision, 'openai', 'gpt-4o-mini', record.costUsd, JSON.stringify({ ...record, app }), app);
      if (blocked) rule.run(i % 100 === 0 ? 'rare-rule' : 'no-cloud-keys', done.lastInsertRowid);
    }
  });
  for (let i = 0; i < RECORDS; i += 50_000) many(i, Math.min(RECORDS, i + 50_000));
  db.close();
  return (performance.now() - start) / 1000;
}

export async function run(): Promise<BenchSection> {
  const home = await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-bench-console-'));
  const gw = await startTestGateway({ home });
  try {
    const seconds = seed(path.join(home, 'gateway.db'));
    const get = async (pathname: string): Promise<{ ms: number; body: { nextCursor?: number | null } }> => {
      const start = performance.now();
      const res = await gw.admin('GET', pathname);
      if (res.status !== 200) throw new Error(`${pathname}: ${res.status} ${res.text}`);
      return { ms: performance.now() - start, body: res.body as { nextCursor?: number | null } };
    };
    const cells: Array<[string, string]> = [
      ['first page (50 newest)', '/admin/v1/audit?limit=50'],
      ['first page, decision = block (5%)', '/admin/v1/audit?limit=50&decision=block'],
      ['first page, one user (0.2%)', '/admin/v1/audit?limit=50&principal=user:person7@acme.example'],
      ['first page, one app (2%)', '/admin/v1/audit?limit=50&app=claude-cli%2F2.0.14'],
      ['first page, a rule that fired (4%)', '/admin/v1/audit?limit=50&rule=no-cloud-keys'],
      ['first page, a rare rule (1%)', '/admin/v1/audit?limit=50&rule=rare-rule'],
    ];
    const rows: Array<Record<string, string | number>> = [];
    for (const [what, pathname] of cells) {
      const first: number[] = [];
      const next: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        let page = await get(pathname);
        first.push(page.ms);
        for (let p = 0; p < 20 && page.body.nextCursor != null; p++) {
          page = await get(`${pathname}&cursor=${page.body.nextCursor}`);
          next.push(page.ms);
        }
      }
      rows.push({ query: what, 'first page p50 ms': quantile(first, 0.5), 'first page p95 ms': quantile(first, 0.95), 'next page p50 ms': quantile(next, 0.5), 'next page p95 ms': quantile(next, 0.95) });
    }
    const overview: number[] = [];
    for (let r = 0; r < ROUNDS; r++) overview.push((await get('/admin/v1/overview')).ms);
    rows.push({ query: "overview: today's decisions (count)", 'first page p50 ms': quantile(overview, 0.5), 'first page p95 ms': quantile(overview, 0.95), 'next page p50 ms': '', 'next page p95 ms': '' });
    return {
      title: `Console: the audit table at ${RECORDS.toLocaleString('en-US')} records (gateway SQLite store, admin API over HTTP)`,
      rows,
      notes: [
        `${RECORDS.toLocaleString('en-US')} records over 30 days from 200 devices and 500 users seeded in ${seconds.toFixed(1)} s; ${ROUNDS} rounds; next pages follow nextCursor 20 pages deep (keyset: each page costs the same however deep)`,
        'each filter (user, decision, provider, model, device, app) has an index with the cursor, and each fired rule a row of its own (audit_rules), so a page of a rare value reads only its own rows; a filter combined with a time range still scans within the range',
      ],
    };
  } finally {
    await gw.close();
    await fs.rm(home, { recursive: true, force: true });
  }
}
