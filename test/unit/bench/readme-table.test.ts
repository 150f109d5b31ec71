/**
 * The README's performance numbers come from the bench results file, never from a hand: the
 * committed README must equal what the generator makes of the committed `bench-results/latest.json`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { regeneratedReadme } from '../../bench/readme.js';
import { BENCH_BEGIN, BENCH_END, benchRecord, BenchReadmeError, renderBenchBlock, replaceBenchBlock, type BenchRecord } from '../../bench/readme-table.js';
import { REPO_ROOT } from '../../support/repo.js';

const latest = (): BenchRecord => benchRecord.parse(JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'bench-results', 'latest.json'), 'utf8')));

/** The committed results with `edit` applied to a copy. */
function edited(edit: (r: BenchRecord) => void): BenchRecord {
  const copy = structuredClone(latest());
  edit(copy);
  return copy;
}

const engineRow = (r: BenchRecord, subject: string, kind: string, c: number): Record<string, string | number> => {
  const row = r.sections.find((s) => s.title.startsWith('Interception engine: throughput'))?.rows.find((x) => x.subject === subject && x.kind === kind && x.c === c);
  if (row === undefined) throw new Error(`no ${subject} ${kind} c=${c} row`);
  return row;
};

describe("the README's performance section", () => {
  it('is exactly what bench-results/latest.json says (run `npm run bench:readme` after a bench)', async () => {
    const { current, next } = await regeneratedReadme(REPO_ROOT);
    expect(current).toContain(BENCH_BEGIN);
    expect(current).toBe(next);
  });

  it('computes the ratio against http-mitm-proxy from the throughput rows', () => {
    const block = renderBenchBlock(
      edited((r) => {
        engineRow(r, 'outpost+gate', 'json', 16)['req/s'] = 3000;
        engineRow(r, 'http-mitm-proxy', 'json', 16)['req/s'] = 2000;
      }),
    );
    expect(block).toMatch(/\| Outpost with the example policy and audit \| 3,000 \| 1\.50× \|/);
  });

  it('takes the SSE first byte added as the difference to the direct connection', () => {
    const block = renderBenchBlock(
      edited((r) => {
        engineRow(r, 'direct', 'sse', 1)['first byte ms'] = 0.25;
        engineRow(r, 'outpost', 'sse', 1)['first byte ms'] = 0.75;
      }),
    );
    expect(block).toMatch(/\| Outpost engine \(allow-all\) \|[^\n]*\| \+0\.50 ms \| \d+ \/ \d+ MB \|/);
  });

  it('refuses results that lack a number it shows, naming what is missing', () => {
    const missing = edited((r) => {
      engineRow(r, 'http-mitm-proxy', 'json', 16)['req/s'] = '';
    });
    expect(() => renderBenchBlock(missing)).toThrow(BenchReadmeError);
    expect(() => renderBenchBlock(missing)).toThrow(/req\/s.*http-mitm-proxy json c=16/);
    const noSection = edited((r) => {
      r.sections = r.sections.filter((s) => !s.title.startsWith('Gateway core: one decision'));
    });
    expect(() => renderBenchBlock(noSection)).toThrow(/no section titled "Gateway core: one decision…"/);
  });

  it('replaces only what lies between the markers', () => {
    const readme = `# T\n\nbefore\n${BENCH_BEGIN}\nold 1.53×\n${BENCH_END}\nafter\n`;
    expect(replaceBenchBlock(readme, 'new')).toBe(`# T\n\nbefore\n${BENCH_BEGIN}\nnew\n${BENCH_END}\nafter\n`);
    expect(() => replaceBenchBlock('# no markers\n', 'x')).toThrow(/lacks the markers/);
  });
});
