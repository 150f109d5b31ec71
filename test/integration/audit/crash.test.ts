/**
 * Crash safety: 2,000 requests through a request path that records like the gate does, kill -9 in
 * the middle, restart. Every request whose response completed at the client has its record, no
 * record exists for a request the provider never saw, the chain verifies and continues, and the
 * budget spend survives (saved counters + the records after them).
 *
 * The request path is crash-agent.ts (real store, real core budget ledger, HTTPS to the harness's
 * fake provider), standing in for `outpost start` until the composition root wires the store.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../../agent/audit/audit-log.js';
import { readRecords } from '../../../agent/audit/records.js';
import { verifyChain } from '../../../agent/audit/verify.js';
import { StateStore } from '../../../agent/store/state.js';
import type { BudgetState } from '../../../shared/core/budgets.js';
import { startFakeProvider, type FakeProvider } from '../../support/fake-provider.js';
import { tempHome } from './temp-home.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'crash-agent.ts');
const TOTAL = 2000;
const KILL_AFTER = 1000;
const CONCURRENCY = 16;
const COST_USD = 0.001;

let provider: FakeProvider;
beforeAll(async () => {
  provider = await startFakeProvider();
});
afterAll(async () => {
  await provider.close();
});

async function startChild(home: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, home, provider.address, provider.ca.caFile], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: child.stdout! });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`crash-agent exited early (${code})`)));
  });
  return { child, port: (JSON.parse(first) as { port: number }).port };
}

/** One request; resolves true when the whole response arrived, false when the connection broke. */
function send(port: number, id: string, agent: http.Agent): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/chat/completions', agent, headers: { 'content-type': 'application/json', 'x-request-id': id, 'user-agent': 'crash-test' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.complete && res.statusCode === 200));
      res.on('error', () => resolve(false));
      res.on('aborted', () => resolve(false));
    });
    req.on('error', () => resolve(false));
    req.end(JSON.stringify({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: `request ${id}` }] }));
  });
}

/** Sends `ids` with bounded concurrency; calls `onComplete` after each completed response. */
async function sendAll(port: number, ids: readonly string[], onComplete: (n: number) => void): Promise<Set<string>> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const completed = new Set<string>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < ids.length) {
      const id = ids[next++] as string;
      if (await send(port, id, agent)) {
        completed.add(id);
        onComplete(completed.size);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  agent.destroy();
  return completed;
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

describe('audit crash safety', () => {
  it('after kill -9 under load: every completed response has its record, the chain verifies and continues, spend survives', async () => {
    const home = await tempHome();
    const file = path.join(home, 'outpost.db');
    const { child, port } = await startChild(home);
    const ids = Array.from({ length: TOTAL }, (_, i) => `req-${String(i).padStart(4, '0')}`);
    let killed = false;
    const completed = await sendAll(port, ids, (n) => {
      if (n >= KILL_AFTER && !killed) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    await exited(child);
    expect(child.signalCode).toBe('SIGKILL');
    expect(completed.size).toBeGreaterThanOrEqual(KILL_AFTER);
    expect(completed.size).toBeLessThan(TOTAL); // the kill did land mid-run

    const sawUpstream = new Set(provider.requests.map((r) => String(r.headers['x-request-id'])));
    const log = AuditLog.open({ file, spoolMaxBytes: 1 << 30, backgroundCheckpoints: false });
    const records = readRecords(log.connection());
    const audited = new Set(records.map((r) => r.id));
    const missing = [...completed].filter((id) => !audited.has(id));
    expect(missing).toEqual([]);
    expect([...audited].filter((id) => !sawUpstream.has(id))).toEqual([]);
    expect(audited.size).toBe(records.length); // no duplicates
    expect(verifyChain(log.connection())).toMatchObject({ ok: true, checked: records.length });

    // Spend: the counters saved before the kill plus the records after them equal everything audited.
    const counters = new StateStore(() => log.connection()).loadCounters();
    expect(counters).not.toBeNull();
    const savedSpend = (counters?.document as BudgetState).windows.reduce((s, w) => s + w.spentUsd, 0);
    const replayed = records.filter((r) => r.seq > (counters?.throughSeq ?? 0)).length * COST_USD;
    expect(savedSpend + replayed).toBeCloseTo(records.length * COST_USD, 9);
    await log.close();

    // Restart: the chain continues from where the killed process left it, and the spend carries on.
    const again = await startChild(home);
    const more = await sendAll(again.port, ['after-1', 'after-2', 'after-3'], () => {});
    expect(more.size).toBe(3);
    again.child.kill('SIGTERM');
    await exited(again.child);
    const final = AuditLog.open({ file, spoolMaxBytes: 1 << 30, backgroundCheckpoints: false });
    const all = readRecords(final.connection());
    expect(all.slice(-3).map((r) => r.id)).toEqual(expect.arrayContaining(['after-1', 'after-2', 'after-3']));
    expect(all.map((r) => r.seq)).toEqual(Array.from({ length: records.length + 3 }, (_, i) => i + 1));
    expect(verifyChain(final.connection())).toMatchObject({ ok: true, checked: records.length + 3 });
    const after = new StateStore(() => final.connection()).loadCounters();
    expect(after?.throughSeq).toBe(records.length + 3);
    expect((after?.document as BudgetState).windows.reduce((s, w) => s + w.spentUsd, 0)).toBeCloseTo((records.length + 3) * COST_USD, 9);
    await final.close();
  }, 120_000);
});
