/**
 * The test harness's own costs, so other measurements can be read against them: issuing a test
 * leaf, and a request to the fake provider straight (no agent) over a warm keep-alive connection,
 * over a fresh TLS connection, and as an SSE stream (first event and end). These are the floor
 * that "added by the agent" numbers sit on; the fake shares this process's event loop with the
 * client, as it does in tests.
 */
import { performance } from 'node:perf_hooks';
import { dispatcherFor } from '../support/clients.js';
import { startFakeProvider } from '../support/fake-provider.js';
import { rawRequest } from '../support/raw-request.js';
import { collectSse } from '../support/sse.js';
import { createTestCa } from '../support/test-ca.js';
import type { BenchSection } from './types.js';

const LEAVES = 200;
const WARM = 400;
const FRESH = 60;
const STREAMS = 200;

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function row(name: string, samplesMs: readonly number[]): Record<string, string | number> {
  return { measure: name, n: samplesMs.length, p50_ms: percentile(samplesMs, 50), p99_ms: percentile(samplesMs, 99) };
}

const CHAT = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'bench' }] };

/** Runs the harness benchmarks. */
export async function run(): Promise<BenchSection> {
  const ca = await createTestCa();
  const issue: number[] = [];
  for (let i = 0; i < LEAVES; i++) {
    const started = performance.now();
    ca.issue([`host-${i}.example.test`]);
    issue.push(performance.now() - started);
  }

  const provider = await startFakeProvider({ ca });
  const route = { resolve: provider.resolveMap(), ca: ca.caPem };
  const url = 'https://api.openai.com/v1/chat/completions';
  const warm = dispatcherFor(route);
  const warmMs: number[] = [];
  const streamFirst: number[] = [];
  const streamEnd: number[] = [];
  const freshMs: number[] = [];
  try {
    for (let i = 0; i < WARM + 20; i++) {
      const started = performance.now();
      await (await rawRequest(warm, url, { json: CHAT })).body.text();
      if (i >= 20) warmMs.push(performance.now() - started); // the first 20 warm the connection and JIT
    }
    for (let i = 0; i < STREAMS; i++) {
      const started = performance.now();
      let first = Number.NaN;
      const response = await rawRequest(warm, url, { json: { ...CHAT, stream: true } });
      await collectSse(response.body, (event) => {
        if (Number.isNaN(first)) first = event.atMs - started;
      });
      streamFirst.push(first);
      streamEnd.push(performance.now() - started);
    }
    for (let i = 0; i < FRESH; i++) {
      const fresh = dispatcherFor(route);
      const started = performance.now();
      await (await rawRequest(fresh, url, { json: CHAT })).body.text();
      freshMs.push(performance.now() - started);
      await fresh.close();
    }
  } finally {
    await warm.close();
    await provider.close();
    await ca.dispose();
  }
  return {
    title: 'Test harness: test CA and fake provider, direct (no agent)',
    rows: [
      row('test CA leaf issue (EC P-256, sync)', issue),
      row('chat JSON, warm keep-alive connection', warmMs),
      row('chat JSON, fresh TLS connection', freshMs),
      row('chat SSE (5 events + [DONE]), first event', streamFirst),
      row('chat SSE (5 events + [DONE]), end', streamEnd),
    ],
    notes: ['Client and fake provider share one event loop, as in the integration tests.'],
  };
}
