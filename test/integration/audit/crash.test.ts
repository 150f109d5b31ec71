/**
 * Crash safety through the proxy: 2,000 requests through the real engine and gate recording into
 * the real store (crash-agent.ts, a child process wired as the composition root wires them), kill -9
 * in the middle, restart.
 * - every request whose response completed at the client has its record;
 * - no record exists for a request the fake provider never saw;
 * - the chain verifies, and continues after the restart;
 * - spend survives: the counters saved before the kill plus the records after them (`throughSeq`)
 *   account for every recorded request, and the restarted agent starts from the saved spend.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../../agent/audit/audit-log.js';
import { readRecords } from '../../../agent/audit/records.js';
import { verifyChain } from '../../../agent/audit/verify.js';
import { StateStore } from '../../../agent/store/state.js';
import type { GovernorState } from '../../../shared/core/decide.js';
import type { AuditRecord } from '../../../shared/schema/audit.js';
import { fetchFor } from '../../support/clients.js';
import { startFakeProvider, type FakeProvider } from '../../support/fake-provider.js';
import { tempHome } from './temp-home.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'crash-agent.ts');
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

interface Agent {
  readonly child: ChildProcess;
  readonly proxyUrl: string;
  readonly caPem: string;
}

async function startAgent(home: string): Promise<Agent> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, home, provider.address, provider.ca.caFile], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: child.stdout! });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`crash-agent exited early (${code})`)));
  });
  const info = JSON.parse(first) as { proxyUrl: string; caPem: string };
  return { child, ...info };
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
    const home = await tempHome();
    const file = path.join(home, 'outpost.db');
    const agent = await startAgent(home);
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

    // Restart: the chain continues, and spending starts from what was saved, not from zero.
    const again = await startAgent(home);
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
    expect(spend(last?.document)).toBeCloseTo(savedSpend + costOf(all.slice(-3)), 9);
    await final.close();
  }, 180_000);
});
