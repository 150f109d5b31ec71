/**
 * `outpost audit tail|export|verify`: read the agent's audit store. The store is opened read-only,
 * so these work while the agent runs (SQLite WAL lets readers and the writer proceed together).
 */
import fs from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { Option, type Command } from 'commander';
import { loadAgentConfig } from '../config/load.js';
import { openDatabase, STORE_FILE, type Db } from '../store/database.js';
import { lastRecords, iterateRecords, readRecords } from '../audit/records.js';
import { verifyChain } from '../audit/verify.js';
import { EXPORT_FORMATS, csvHeader, parseTimeBound, toCsvRow, toJsonLine, toTextLine, type ExportFormat } from '../../shared/audit/export.js';
import { output } from './output.js';

/** Interval of `tail --follow` polling: new commits are visible to a reader at once. */
const FOLLOW_POLL_MS = 250;

async function openStore(configFile: string | undefined): Promise<{ db: Db; file: string }> {
  const config = await loadAgentConfig(configFile ?? null);
  const file = path.join(config.home, STORE_FILE);
  if (!fs.existsSync(file)) throw new Error(`no audit store at ${file}: the agent has not run with this home yet`);
  return { db: openDatabase(file, { readOnly: true }), file };
}

/** Writes with back-pressure (exports can be large). */
async function write(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

/** Adds `audit tail|export|verify` to the command tree. */
export function registerAudit(program: Command): void {
  const group = program.command('audit').description("read this device's audit log: tail, export, verify the hash chain");

  group
    .command('tail')
    .description('print the latest audit records; --follow keeps printing new ones until Ctrl-C')
    .option('-n, --lines <n>', 'how many records', (v) => Number.parseInt(v, 10), 20)
    .option('-f, --follow', 'keep printing records as they are written')
    .option('--json', 'one JSON record per line')
    .option('-c, --config <file>', 'agent config file')
    .action(async (opts: { lines: number; follow?: boolean; json?: boolean; config?: string }) => {
      if (!Number.isInteger(opts.lines) || opts.lines < 0) throw new Error('--lines expects a whole number');
      const { db } = await openStore(opts.config);
      const show = (r: Parameters<typeof toTextLine>[0]): string => (opts.json ? toJsonLine(r) : `${toTextLine(r)}\n`);
      let last = 0;
      for (const r of lastRecords(db, opts.lines)) {
        process.stdout.write(show(r));
        last = r.seq;
      }
      if (!opts.follow) {
        db.close();
        return;
      }
      if (last === 0) last = (db.prepare('SELECT coalesce(max(seq), 0) AS seq FROM audit').get() as { seq: number }).seq;
      await new Promise<void>((resolve) => {
        const timer = setInterval(() => {
          for (const r of readRecords(db, { afterSeq: last, limit: 1000 })) {
            process.stdout.write(show(r));
            last = r.seq;
          }
        }, FOLLOW_POLL_MS);
        const stop = (): void => {
          clearInterval(timer);
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      db.close();
    });

  group
    .command('export')
    .description('write audit records in a time range as JSON Lines or CSV')
    .option('--since <time>', 'from this time, inclusive (ISO 8601, or 90m / 24h / 7d back from now)')
    .option('--until <time>', 'up to this time, exclusive (same forms)')
    .addOption(new Option('--format <format>', 'output format').choices([...EXPORT_FORMATS]).default('jsonl'))
    .option('-o, --out <file>', 'write to this file (created 0600) instead of standard output')
    .option('-c, --config <file>', 'agent config file')
    .action(async (opts: { since?: string; until?: string; format: ExportFormat; out?: string; config?: string }) => {
      const since = opts.since === undefined ? undefined : parseTimeBound(opts.since);
      const until = opts.until === undefined ? undefined : parseTimeBound(opts.until);
      const { db } = await openStore(opts.config);
      const out: Writable = opts.out === undefined ? process.stdout : fs.createWriteStream(opts.out, { mode: 0o600 });
      let n = 0;
      try {
        if (opts.format === 'csv') await write(out, csvHeader());
        for (const r of iterateRecords(db, { ...(since === undefined ? {} : { since }), ...(until === undefined ? {} : { until }) })) {
          await write(out, opts.format === 'csv' ? toCsvRow(r) : toJsonLine(r));
          n++;
        }
      } finally {
        db.close();
        if (out !== process.stdout) await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
      }
      if (opts.out !== undefined) process.stderr.write(`${n} records written to ${opts.out}\n`);
    });

  group
    .command('verify')
    .description('walk the whole hash chain; names the first broken or missing record (exit 1)')
    .option('--json', 'print the result as JSON')
    .option('-c, --config <file>', 'agent config file')
    .action(async (opts: { json?: boolean; config?: string }) => {
      const { db, file } = await openStore(opts.config);
      const result = verifyChain(db);
      db.close();
      const range = result.headSeq > result.baseSeq ? `records ${result.baseSeq + 1}–${result.headSeq}` : 'no records';
      const text = result.ok ? `ok: ${result.checked} records verified (${range}) in ${file}` : `broken: ${result.problem?.message ?? 'unknown problem'} (${result.checked} records verified before it)`;
      output(opts.json, { ...result, file }, text);
      if (!result.ok) process.exitCode = 1;
    });
}
