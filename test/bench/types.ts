/**
 * A benchmark section: each `test/bench/*.bench.ts` exports `run(): Promise<BenchSection>`, and
 * `test/bench/run.ts` runs them all in one process, prints one table per section and keeps the
 * results in `bench-results/latest.json`. Goals are reported as ratios against a baseline measured
 * in the same run; never asserted in tests.
 */
export interface BenchSection {
  readonly title: string;
  /** One row per measured thing; columns are the keys of the first row. */
  readonly rows: ReadonlyArray<Readonly<Record<string, string | number>>>;
  /** Goals and how this run met them, in plain words ("added p50 0.21 ms ≤ 0.3 ms: met"). */
  readonly notes?: readonly string[];
}

/** What a bench module exports. */
export interface BenchModule {
  run(): Promise<BenchSection | BenchSection[]>;
}
