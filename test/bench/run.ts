/**
 * `npm run bench`: runs every `*.bench.js` next to this file (or those named on the command line),
 * prints a table per section and writes `bench-results/latest.json` and the same as tables in
 * `latest.txt` (a run of named sections replaces those sections there and keeps the others), then
 * regenerates README.md's performance block from the JSON (`readme.ts`).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchModule, BenchSection } from './types.js';
import { updateReadme } from './readme.js';

const here = path.dirname(fileURLToPath(import.meta.url));

function table(section: BenchSection): string {
  const rows = section.rows;
  if (rows.length === 0) return `${section.title}\n(no rows)\n`;
  const cols = Object.keys(rows[0] ?? {});
  const cell = (v: string | number | undefined): string => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(3)) : (v ?? ''));
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]): string => `| ${vals.map((v, i) => v.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  const out = [`## ${section.title}`, line(cols), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`];
  for (const r of rows) out.push(line(cols.map((c) => cell(r[c]))));
  for (const n of section.notes ?? []) out.push(`- ${n}`);
  return `${out.join('\n')}\n`;
}

/** The sections of the last results file, or none. */
async function previousSections(file: string): Promise<BenchSection[]> {
  try {
    return (JSON.parse(await fs.readFile(file, 'utf8')) as { sections?: BenchSection[] }).sections ?? [];
  } catch {
    return [];
  }
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const files = (await fs.readdir(here)).filter((f) => f.endsWith('.bench.js')).filter((f) => only.length === 0 || only.some((o) => f.includes(o))).sort();
  const results: BenchSection[] = [];
  for (const f of files) {
    const mod = (await import(pathToFileURL(path.join(here, f)).href)) as BenchModule;
    const sections = await mod.run();
    for (const s of Array.isArray(sections) ? sections : [sections]) {
      results.push(s);
      process.stdout.write(`${table(s)}\n`);
    }
  }
  const outDir = path.resolve(here, '../../../bench-results');
  await fs.mkdir(outDir, { recursive: true });
  const outFile = path.join(outDir, 'latest.json');
  const time = new Date().toISOString();
  const measured = results.map((s) => ({ ...s, measuredAt: time }));
  // A run of some sections (`run.js soak`) replaces those and keeps the others' last results.
  const kept = only.length === 0 ? [] : (await previousSections(outFile)).filter((s) => !results.some((r) => r.title === s.title));
  const record = { time, node: process.version, cpus: (await import('node:os')).cpus().length, sections: [...kept, ...measured] };
  await fs.writeFile(outFile, `${JSON.stringify(record, null, 2)}\n`);
  // The same sections as tables, for reading (written by the run, never by hand).
  await fs.writeFile(path.join(outDir, 'latest.txt'), record.sections.map(table).join('\n'));
  process.stdout.write(`results kept in ${outFile} (tables: latest.txt)\n`);
  if (await updateReadme()) process.stdout.write('README.md performance section regenerated\n');
}

await main();
