/**
 * Crash safety of the whole agent: `outpost start` (the built CLI) with a config pointing
 * `upstream.resolve` at the harness's fake provider, 2,000 requests through its proxy, kill -9 in
 * the middle, restart.
 * - every request whose response completed at the client has its record;
 * - no record exists for a request the fake provider never saw;
 * - the chain verifies, and continues after the restart;
 * - spend survives: the counters saved before the kill plus the records after them (`throughSeq`)
 *   account for every recorded request, and the restarted agent starts from exactly that spend.
 */
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../../agent/audit/audit-log.js';
import { readRecords } from '../../../agent/audit/records.js';
import { verifyChain } from '../../../agent/audit/verify.js';
import { StateStore } from '../../../agent/store/state.js';
import type { GovernorState } from '../../../shared/core/decide.js';
import type { AuditRecord } from '../../../shared/schema/audit.js';
import { fetchFor } from '../../support/clients.js';
import { startFakeProvider, type FakeProvider } from '../../support/fake-provider.js';
import { startOutpost, writeAgentConfig, type RunningAgent } from '../../support/cli.js';
import { tempHome } from './temp-home.js';

const TOTAL = 2000;
const KILL_AFTER = 1000;
const CONCURRENCY = 16;

let provider: FakeProvider;
beforeAll(async () => {
  provider = await startFakeProvider();
});
afterAll(async () => {
  await provider.close();
});

type Agent = RunningAgent;

/** Writes the agent's config and policy into `dir` (once), and returns the config file. */
function configure(dir: string): Promise<string> {
  return writeAgentConfig(dir, {
    // A daily budget far above what the test spends: every request is charged to it.
    policy: { version: 1, name: 'crash', interception: { hosts: ['api.openai.com'] }, defaults: { budget: { limitUsd: 1000, period: '1d' } } },
    resolve: provider.resolveMap(),
    caFile: provider.ca.caFile,
  });
}

/** The request id a prompt carries (the record keeps the prompt: no guardrail finding in it). */
const idOf = (text: string | null | undefined): string | null => /crash-test (req-\d+|after-\d)/.exec(text ?? '')?.[1] ?? null;

/** Sends `ids` through the agent with bounded concurrency; `onComplete` after each full response. */
async function sendAll(agent: Agent, ids: readonly string[], onComplete: (n: number) => void): Promise<Set<string>> {
  const { client: fetch, close } = fetchFor({ proxyUrl: agent.proxyUrl, ca: agent.caPem });
  const completed = new Set<string>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < ids.length) {
      const id = ids[next++] as string;
      try {
        const res = await fetch('https://api.openai.com/v1/chat/completions', {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: 'Bearer sk-user-own-key' },
          body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `crash-test ${id}` }] }),
        });
        const body = await res.text();
        if (res.status === 200 && body.includes(`crash-test ${id}`)) {
          completed.add(id);
          onComplete(completed.size);
        }
      } catch {
        // The agent died under this request: it did not complete.
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  await close().catch(() => {});
  return completed;
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

const spend = (doc: unknown): number => (doc as GovernorState).budgets.windows.reduce((s, w) => s + w.spentUsd, 0);
const costOf = (records: readonly AuditRecord[]): number => records.reduce((s, r) => s + (r.costUsd ?? 0), 0);

describe('audit crash safety', () => {
  it('kill -9 under load through the proxy: completed responses all recorded, chain verifies and continues, spend survives', async () => {
    const dir = await tempHome();
    const config = await configure(dir);
    const file = path.join(dir, 'home', 'outpost.db');
    const agent = await startOutpost(config);
    const ids = Array.from({ length: TOTAL }, (_, i) => `req-${String(i).padStart(4, '0')}`);
    let killed = false;
    const completed = await sendAll(agent, ids, (n) => {
      if (n >= KILL_AFTER && !killed) {
        killed = true;
        agent.child.kill('SIGKILL');
      }
    });
    await exited(agent.child);
    expect(agent.child.signalCode).toBe('SIGKILL');
    expect(completed.size).toBeGreaterThanOrEqual(KILL_AFTER);
    expect(completed.size).toBeLessThan(TOTAL); // the kill landed mid-run

    const sawUpstream = new Set(provider.requests.map((r) => idOf(JSON.stringify(r.json))));
    const log = AuditLog.open({ file, spoolMaxBytes: 1 << 30, backgroundCheckpoints: false });
    const records = readRecords(log.connection());
    const audited = new Set(records.map((r) => idOf(r.prompt)));
    expect(audited.has(null)).toBe(false);
    expect(audited.size).toBe(records.length); // one record per request
    expect([...completed].filter((id) => !audited.has(id))).toEqual([]);
    expect([...audited].filter((id) => !sawUpstream.has(id))).toEqual([]);
    expect(records.every((r) => r.decision === 'allow' && r.status === 200 && (r.costUsd ?? 0) > 0)).toBe(true);
    expect(verifyChain(log.connection())).toMatchObject({ ok: true, checked: records.length });

    const counters = new StateStore(() => log.connection()).loadCounters();
    expect(counters).not.toBeNull();
    const savedSpend = spend(counters?.document);
    const after = records.filter((r) => r.seq > (counters?.throughSeq ?? 0));
    expect(savedSpend + costOf(after)).toBeCloseTo(costOf(records), 9);
    await log.close();

    // Restart: the chain continues, and spending starts from what was saved plus the records after
    // it (replayed), not from zero.
    const again = await startOutpost(config);
    const more = await sendAll(again, ['after-1', 'after-2', 'after-3'], () => {});
    expect(more.size).toBe(3);
    again.child.kill('SIGTERM');
    await exited(again.child);
    const final = AuditLog.open({ file, spoolMaxBytes: 1 << 30, backgroundCheckpoints: false });
    const all = readRecords(final.connection());
    expect(all.map((r) => r.seq)).toEqual(Array.from({ length: records.length + 3 }, (_, i) => i + 1));
    expect(all.slice(-3).map((r) => idOf(r.prompt)).sort()).toEqual(['after-1', 'after-2', 'after-3']);
    expect(verifyChain(final.connection())).toMatchObject({ ok: true, checked: records.length + 3 });
    const last = new StateStore(() => final.connection()).loadCounters();
    expect(last?.throughSeq).toBe(records.length + 3);
    // The restart replayed the records after throughSeq: spend is everything recorded, none lost.
    expect(spend(last?.document)).toBeCloseTo(costOf(all), 9);
    await final.close();
  }, 180_000);
});
