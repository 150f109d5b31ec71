/**
 * The store's small state: schema migrations, the last good policy, the pinned-host list, and budget
 * and rate counters that a restart does not reset (the records after the last save replayed).
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openAgentStore, type AgentStore } from '../../../agent/agent-store.js';
import { openDatabase } from '../../../agent/store/database.js';
import { SCHEMA_VERSION } from '../../../agent/store/migrations.js';
import { StoreError } from '../../../agent/store/errors.js';
import { loadPolicyFile } from '../../../agent/policy/load.js';
import { BudgetLedger, type BudgetState } from '../../../shared/core/budgets.js';
import { RateLimiter, type RateState } from '../../../shared/core/rate-limits.js';
import type { GovernorState } from '../../../shared/core/decide.js';
import type { AuditRecord } from '../../../shared/schema/audit.js';
import { startTestAgent, type TestAgent } from '../../support/agent.js';
import { chatThrough } from '../../support/clients.js';
import { exampleFile } from '../../support/repo.js';
import { makeEntry } from '../../support/audit-entries.js';
import { tempHome } from './temp-home.js';

/** Waits, without a deadline of its own (the test timeout bounds it), until `pred` holds. */
async function until(pred: () => boolean): Promise<void> {
  while (!pred()) await new Promise((r) => setTimeout(r, 5));
}

const stores: AgentStore[] = [];
const agents: TestAgent[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  // Last started first: the first agent owns the provider and the home.
  for (const a of agents.splice(0).reverse()) await a.close();
});

/** One chat completion through the agent's proxy; the status. */
async function ask(t: TestAgent, text: string): Promise<number> {
  return (await chatThrough({ proxyUrl: t.proxyUrl, ca: t.caPem }, text)).status;
}

const spend = (doc: unknown): number => (doc as GovernorState).budgets.windows.reduce((n, w) => n + w.spentUsd, 0);
const costOf = (records: readonly AuditRecord[]): number => records.reduce((n, r) => n + (r.costUsd ?? 0), 0);

function open(home: string): AgentStore {
  const s = openAgentStore({ home, audit: { spoolMaxBytes: 1 << 30 } }, { backgroundCheckpoints: false });
  stores.push(s);
  return s;
}

async function reopen(store: AgentStore, home: string): Promise<AgentStore> {
  await store.close();
  stores.splice(stores.indexOf(store), 1);
  return open(home);
}

describe('the agent store', () => {
  it('creates its schema at the current version in WAL mode, and reopens without migrating again', async () => {
    const home = await tempHome();
    const s = open(home);
    const db = s.audit.connection();
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
    const again = await reopen(s, home);
    expect(again.audit.connection().pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
  });

  it('refuses a store written by a newer agent instead of writing into it', async () => {
    const home = await tempHome();
    const file = path.join(home, 'outpost.db');
    const raw = new Database(file);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    expect(() => openDatabase(file)).toThrow(StoreError);
    expect(() => openAgentStore({ home, audit: { spoolMaxBytes: 1 << 30 } })).toThrow(/upgrade the agent/);
  });

  it('keeps the last good policy across restarts, validated on the way out', async () => {
    const home = await tempHome();
    const s = open(home);
    expect(s.state.lastGoodPolicy()).toBeNull();
    const policy = await loadPolicyFile(exampleFile('policy.json'));
    s.state.saveLastGoodPolicy(policy, 'gateway');
    const again = await reopen(s, home);
    const stored = again.state.lastGoodPolicy();
    expect(stored).toMatchObject({ version: policy.version, source: 'gateway' });
    expect(stored?.policy).toEqual(policy);
  });

  it('says a stored policy is corrupt rather than enforcing garbage', async () => {
    const s = open(await tempHome());
    s.audit.connection().prepare("INSERT INTO policy VALUES (1, 3, '{\"version\":\"x\"}', 'gateway', 'now')").run();
    expect(() => s.state.lastGoodPolicy()).toThrow(expect.objectContaining({ code: 'STORE_CORRUPT' }));
  });

  it('keeps the pinned-host list, counting repeats', async () => {
    const home = await tempHome();
    const s = open(home);
    s.state.addPinnedHost('Chatgpt.com', 'ChatGPT.app', 'client closed the connection after ServerHello');
    s.state.addPinnedHost('chatgpt.com', null, 'unknown_ca alert');
    s.state.addPinnedHost('claude.ai', 'Claude.app', 'unknown_ca alert');
    const again = await reopen(s, home);
    expect(again.state.pinnedHosts()).toMatchObject([
      { host: 'chatgpt.com', app: 'ChatGPT.app', reason: 'unknown_ca alert', count: 2 },
      { host: 'claude.ai', app: 'Claude.app', count: 1 },
    ]);
    expect(again.state.removePinnedHost('claude.ai')).toBe(true);
    expect(again.state.pinnedHosts().map((p) => p.host)).toEqual(['chatgpt.com']);
  });
});

describe('budget and rate counters across a restart', () => {
  const monthly = { id: 'team-a-monthly', scope: 'team:a', limitUsd: 10, period: '1M' as const };
  const daily = { id: 'vk:cli', scope: 'vk:cli', limitUsd: 1, period: '1d' as const };

  it('a restart does not reset spending or token windows', async () => {
    const home = await tempHome();
    const now = Date.now();
    const ledger = new BudgetLedger();
    const limiter = new RateLimiter();
    for (let i = 0; i < 4; i++) {
      const t = ledger.reserve([monthly, daily], 0.2, now);
      if (!t.ok) throw new Error('refused');
      ledger.settle(t, 0.2);
      const r = limiter.admit('vk:cli', { tokensPerDay: 10_000 }, 500, now);
      if (!r.ok) throw new Error('refused');
      limiter.settle(r, 700);
    }
    const s = open(home);
    s.persistCounters(() => ({ budgets: ledger.exportState(), rates: limiter.exportState(now) }));
    const again = await reopen(s, home); // close() saves the counters one last time

    const saved = again.state.loadCounters();
    expect(saved).not.toBeNull();
    const doc = saved?.document as { budgets: BudgetState; rates: RateState };
    const ledger2 = new BudgetLedger();
    const limiter2 = new RateLimiter();
    ledger2.importState(doc.budgets, now);
    limiter2.importState(doc.rates, now);
    expect(ledger2.usage(monthly, now).spentUsd).toBeCloseTo(0.8, 9);
    expect(ledger2.usage(daily, now).spentUsd).toBeCloseTo(0.8, 9);
    expect(limiter2.usage('vk:cli', now).dayTokens).toBe(2800);
    // The restored window still binds: 0.8 spent of 1.0, so 0.3 more does not fit.
    expect(ledger2.reserve([daily], 0.3, now).ok).toBe(false);
    expect(ledger2.reserve([daily], 0.1, now).ok).toBe(true);
  });

  it('saves counters when requests were recorded and the counters changed, stamped with the last audit sequence', async () => {
    const home = await tempHome();
    const s = open(home);
    let state = { n: 1 };
    s.persistCounters(() => state, 10);
    await until(() => s.state.loadCounters() !== null);
    const first = s.state.loadCounters();
    expect(first?.document).toEqual({ n: 1 });
    expect(first?.throughSeq).toBe(0);
    s.audit.record(makeEntry());
    await new Promise((r) => setTimeout(r, 30)); // a few intervals pass with nothing changed
    expect(s.state.loadCounters()?.savedAt).toBe(first?.savedAt);
    state = { n: 2 };
    s.audit.record(makeEntry());
    await until(() => (s.state.loadCounters()?.document as { n: number }).n === 2);
    expect(s.state.loadCounters()?.throughSeq).toBe(2);
  });

  it('a restarted agent replays the spend recorded after the last save (what a kill -9 between saves leaves)', async () => {
    // A daily budget far above what the test spends: every request is charged to it.
    const policy = { version: 1, name: 'replay', interception: { hosts: ['api.openai.com'] }, defaults: { budget: { limitUsd: 1000, period: '1d' as const } } };
    const first = await startTestAgent({ policy });
    agents.push(first);
    expect(await ask(first, 'one')).toBe(200);
    expect(await ask(first, 'two')).toBe(200);
    await until(() => first.agent.store.state.loadCounters()?.throughSeq === 2);
    const saved = first.agent.store.state.loadCounters();
    if (saved === null) throw new Error('no counters saved');
    expect(await ask(first, 'three')).toBe(200);
    expect(await ask(first, 'four')).toBe(200);
    await first.stopAgent();
    // Put back the counters as the save before requests three and four left them: the state a
    // kill -9 right after that save leaves (a clean stop saves once more).
    const store = open(first.home);
    store.state.saveCounters(saved.document, saved.throughSeq);
    await store.close();
    stores.splice(stores.indexOf(store), 1);

    const again = await startTestAgent({ policy, home: first.home, provider: { provider: first.provider, ca: first.upstreamCa } });
    agents.push(again);
    const records = again.agent.store.audit.recordsAfter(0);
    expect(records.map((r) => r.prompt)).toEqual(['one', 'two', 'three', 'four']);
    const total = costOf(records);
    expect(total).toBeGreaterThan(0);
    expect(spend(saved.document)).toBeCloseTo(costOf(records.slice(0, 2)), 12); // the save misses three and four
    expect(spend(again.agent.gate.exportState())).toBeCloseTo(total, 12);
    // And the restarted agent goes on from there.
    expect(await ask(again, 'five')).toBe(200);
    expect(spend(again.agent.gate.exportState())).toBeCloseTo(costOf(again.agent.store.audit.recordsAfter(0)), 12);
  });
});
