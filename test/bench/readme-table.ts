/**
 * The README's performance section, computed from a bench results file (`bench-results/latest.json`)
 * so no number in it is ever typed by hand. Pure: `renderBenchBlock` turns results into markdown,
 * `replaceBenchBlock` puts it between the README's markers. `readme.ts` does the file I/O.
 */
import { z } from 'zod';

/** The lines that fence the generated block in README.md. */
export const BENCH_BEGIN = '<!-- bench:begin (generated from bench-results/latest.json by `npm run bench:readme`; do not edit by hand) -->';
export const BENCH_END = '<!-- bench:end -->';

const cell = z.union([z.string(), z.number()]);
const row = z.record(z.string(), cell);

/** What the generator reads of a results file (the file holds more; unknown fields are ignored). */
export const benchRecord = z.object({
  time: z.string(),
  node: z.string(),
  cpus: z.number().int().positive(),
  sections: z.array(
    z.object({
      title: z.string(),
      rows: z.array(row),
      measuredAt: z.string().optional(),
    }),
  ),
});
export type BenchRecord = z.infer<typeof benchRecord>;
type Row = z.infer<typeof row>;

/** A results file that lacks what the README shows (a section or row renamed, a cell empty). */
export class BenchReadmeError extends Error {
  readonly code = 'bench_readme_incomplete';
  constructor(message: string) {
    super(`bench results cannot fill the README: ${message}`);
    this.name = 'BenchReadmeError';
  }
}

/** The section whose title starts with `prefix`. */
function section(record: BenchRecord, prefix: string): BenchRecord['sections'][number] {
  const found = record.sections.find((s) => s.title.startsWith(prefix));
  if (found === undefined) throw new BenchReadmeError(`no section titled "${prefix}…"`);
  return found;
}

/** The one row of `rows` that `match` picks. */
function pick(rows: readonly Row[], what: string, match: (r: Row) => boolean): Row {
  const found = rows.find(match);
  if (found === undefined) throw new BenchReadmeError(`no row for ${what}`);
  return found;
}

/** A numeric cell (an empty string in the results means "not measured"). */
function num(r: Row, column: string, what: string): number {
  const v = r[column];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new BenchReadmeError(`no number in "${column}" for ${what}`);
  return v;
}

const fixed = (v: number, digits: number): string => v.toFixed(digits);
const grouped = (v: number): string => Math.round(v).toLocaleString('en-US');

/** The proxy subjects the table compares, in the order shown. */
const SUBJECTS = [
  { id: 'outpost', label: 'Outpost engine (allow-all)' },
  { id: 'outpost+gate', label: 'Outpost with the example policy and audit' },
  { id: 'http-mitm-proxy', label: 'http-mitm-proxy (keepAlive)' },
] as const;

/** The generated markdown (without the markers). */
export function renderBenchBlock(record: BenchRecord): string {
  const engine = section(record, 'Interception engine: throughput and latency');
  const memory = section(record, 'Interception engine: memory and first handshake');
  const cell = (subject: string, kind: string, c: number): Row =>
    pick(engine.rows, `${subject} ${kind} c=${c}`, (r) => r.subject === subject && r.kind === kind && r.c === c);
  const mem = (subject: string): Row => pick(memory.rows, `${subject} memory`, (r) => r.subject === subject);

  const mitmRps = num(cell('http-mitm-proxy', 'json', 16), 'req/s', 'http-mitm-proxy json c=16');
  const directFirstByte = num(cell('direct', 'sse', 1), 'first byte ms', 'direct sse c=1');
  const rows = SUBJECTS.map(({ id, label }) => {
    const rps = num(cell(id, 'json', 16), 'req/s', `${id} json c=16`);
    const ratio = id === 'http-mitm-proxy' ? '1×' : `${fixed(rps / mitmRps, 2)}×`;
    const added = num(cell(id, 'json', 1), 'added p50 ms', `${id} json c=1`);
    const firstByte = num(cell(id, 'sse', 1), 'first byte ms', `${id} sse c=1`) - directFirstByte;
    const idle = num(mem(id), 'idle RSS MB', `${id} memory`);
    const peak = num(mem(id), 'peak RSS MB (c=64)', `${id} memory`);
    return `| ${label} | ${grouped(rps)} | ${ratio} | +${fixed(added, 2)} ms | +${fixed(firstByte, 2)} ms | ${fixed(idle, 0)} / ${fixed(peak, 0)} MB |`;
  });

  const core = section(record, 'Gateway core: one decision');
  const decision = num(pick(core.rows, 'the core decision on new text', (r) => String(r.measured).startsWith('core decision, 4 KB of new text')), 'p50_us', 'core decision');
  const scanning = section(record, 'Gateway core: guardrail scanning');
  const scan = num(pick(scanning.rows, 'the default guardrails', (r) => String(r.measured).startsWith('default guardrails')), 'mb_per_s', 'default guardrails');
  const audit = section(record, 'Audit recording');
  const recordUs = num(pick(audit.rows, 'batch durability', (r) => String(r.what).includes('batch durability')), 'p50 µs', 'audit batch durability');
  const ca = section(record, 'CA: TLS handshakes through the issuer');
  const handshake = (prefix: string): number => num(pick(ca.rows, prefix, (r) => String(r.measure).startsWith(prefix)), 'p50', prefix);
  const newHostAdds = handshake('handshake, new host') - handshake('handshake, known host');
  const mitmFirst = num(mem('http-mitm-proxy'), 'first handshake ms', 'http-mitm-proxy first handshake');
  const mitmStall = num(mem('http-mitm-proxy'), 'event-loop stall ms', 'http-mitm-proxy event-loop stall');

  const measuredAt = engine.measuredAt ?? record.time;
  return [
    `Measured ${measuredAt.slice(0, 10)} on Node ${record.node}, ${record.cpus} cores, through the same undici client,`,
    'medians of interleaved rounds (`bench-results/latest.json`, section "Interception engine"):',
    '',
    '| | JSON c=16 req/s | vs http-mitm-proxy | added p50 c=1 | SSE first byte added | idle / peak RSS |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
    `One full policy decision on a 4 KB prompt takes ${fixed(decision, 0)} µs (p50); the default guardrails scan at`,
    `${grouped(scan)} MB/s; recording an audit record costs ${fixed(recordUs, 1)} µs (p50, group commit; a response ends only`,
    `after its record is committed); a new host's first handshake adds ${fixed(newHostAdds, 2)} ms over a known host's`,
    `(http-mitm-proxy: ${grouped(mitmFirst)} ms, its event loop blocked for ${grouped(mitmStall)} ms).`,
  ].join('\n');
}

/** `readme` with the text between the markers replaced by `block`; throws when the markers are missing. */
export function replaceBenchBlock(readme: string, block: string): string {
  const begin = readme.indexOf(BENCH_BEGIN);
  const end = readme.indexOf(BENCH_END);
  if (begin === -1 || end === -1 || end < begin) throw new BenchReadmeError(`README.md lacks the markers ${BENCH_BEGIN} … ${BENCH_END}`);
  return `${readme.slice(0, begin + BENCH_BEGIN.length)}\n${block}\n${readme.slice(end)}`;
}
