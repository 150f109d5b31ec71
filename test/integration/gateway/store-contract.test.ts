/**
 * The one store interface, held to the same behaviour by both implementations: the embedded SQLite
 * store and the PostgreSQL store (a real cluster, started here).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../../gateway/store/sqlite/sqlite-store.js';
import { openPostgresStore } from '../../../gateway/store/postgres/postgres-store.js';
import { nextGrant } from '../../../gateway/budgets/grants.js';
import type { GatewayStore, StoreChange } from '../../../gateway/store/store.js';
import { makeChain } from '../../support/audit-entries.js';
import { startTestPostgres, type TestPostgres } from '../../support/postgres.js';

let pgServer: TestPostgres;
let dir: string;
beforeAll(async () => {
  pgServer = await startTestPostgres();
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-store-'));
}, 120_000);
afterAll(async () => {
  await pgServer?.stop();
  await fs.rm(dir, { recursive: true, force: true });
});

const facts = { hostname: 'h', osUser: 'u', os: 'linux', arch: 'x64', agentVersion: '0.1.0' };
let n = 0;

describe.each([
  ['sqlite', async (): Promise<GatewayStore> => openSqliteStore(path.join(dir, `g${++n}.db`))],
  ['postgres', async (): Promise<GatewayStore> => openPostgresStore(await pgServer.createDatabase())],
])('%s store', (_name, open) => {
  let store: GatewayStore;
  beforeAll(async () => {
    store = await open();
  });
  afterAll(() => store.close());

  it('numbers policy versions from 1 and keeps each signed document', async () => {
    const p1 = await store.addPolicy((v) => ({ document: { v }, signature: `sig${v}`, signedAt: 't' }), 'put');
    const p2 = await store.addPolicy((v) => ({ document: { v }, signature: `sig${v}`, signedAt: 't' }), 'rollback to 1');
    expect([p1.version, p2.version]).toEqual([1, 2]);
    expect(await store.latestPolicy()).toMatchObject({ version: 2, document: { v: 2 }, signature: 'sig2', origin: 'rollback to 1' });
    expect((await store.policyVersion(1))?.document).toEqual({ v: 1 });
    expect((await store.listPolicyVersions()).map((p) => p.version)).toEqual([2, 1]);
    // Concurrent puts still get distinct versions.
    const many = await Promise.all(Array.from({ length: 5 }, () => store.addPolicy((v) => ({ document: { v }, signature: 's', signedAt: 't' }), 'put')));
    expect(new Set(many.map((p) => p.version)).size).toBe(5);
  });

  it('spends an enrollment token once and never an expired one', async () => {
    const now = new Date();
    await store.addEnrollmentToken({ tokenSha256: 'a', team: 'red', expiresAt: new Date(now.getTime() + 60_000).toISOString(), createdAt: now.toISOString(), user: null, codeChallenge: null });
    await store.addEnrollmentToken({ tokenSha256: 'b', team: null, expiresAt: new Date(now.getTime() - 1).toISOString(), createdAt: now.toISOString(), user: null, codeChallenge: null });
    await store.addEnrollmentToken({ tokenSha256: 'c', team: null, expiresAt: new Date(now.getTime() + 60_000).toISOString(), createdAt: now.toISOString(), user: 'ada@example.com', codeChallenge: 'x'.repeat(43) });
    expect(await store.consumeEnrollmentToken('c', now)).toMatchObject({ user: 'ada@example.com', codeChallenge: 'x'.repeat(43) });
    const [first, second] = await Promise.all([store.consumeEnrollmentToken('a', now), store.consumeEnrollmentToken('a', now)]);
    expect([first?.team, second?.team].filter(Boolean)).toEqual(['red']);
    expect(await store.consumeEnrollmentToken('b', now)).toBeNull();
  });

  it('stores records once by id and acknowledges the contiguous, verified chain', async () => {
    await store.addDevice({ id: 'dev-contract-1', credentialSha256: 'c1', facts, team: 'red', enrolledAt: new Date().toISOString(), user: 'ada@example.com' });
    expect((await store.device('dev-contract-1'))?.user).toBe('ada@example.com');
    const chain = makeChain(8, 101);
    expect(await store.storeAuditBatch('dev-contract-1', chain.slice(0, 3))).toEqual({ ackSeq: 103, inserted: 3, chainProblem: null });
    expect(await store.storeAuditBatch('dev-contract-1', chain.slice(5))).toMatchObject({ ackSeq: 103, inserted: 3 });
    expect(await store.storeAuditBatch('dev-contract-1', chain.slice(0, 5))).toMatchObject({ ackSeq: 108, inserted: 2 });
    const tampered = makeChain(2, 109, chain[7]!.hash).map((r, i) => (i === 1 ? { ...r, model: 'other' } : r));
    expect((await store.storeAuditBatch('dev-contract-1', tampered)).chainProblem).toMatch(/record 110/);
    expect(await store.auditAck('dev-contract-1')).toBe(110);
    const page = await store.queryAudit({ device: 'dev-contract-1' }, 4, null);
    expect(page.records.map((r) => r.record.seq)).toEqual([110, 109, 105, 104]);
    const rest = await store.queryAudit({ device: 'dev-contract-1' }, 100, page.nextCursor);
    expect(rest.records).toHaveLength(6);
    expect(rest.nextCursor).toBeNull();
    expect((await store.device('dev-contract-1'))?.chainProblem).toMatch(/record 110/);
  });

  it('sums spend per team, counts records per decision, and prunes by time', async () => {
    expect(await store.spend('team', null, null)).toEqual([{ key: 'red', requests: 10, costUsd: expect.closeTo(0.00123, 9) }]);
    expect(await store.decisionCounts(new Date(Date.now() - 3_600_000).toISOString())).toEqual({ allow: 10 });
    expect(await store.spendByDay('team', null, null)).toEqual([{ day: new Date().toISOString().slice(0, 10), key: 'red', requests: 10, costUsd: expect.closeTo(0.00123, 9) }]);
    expect(await store.decisionCounts(new Date(Date.now() + 60_000).toISOString())).toEqual({});
    expect(await store.pruneAudit(new Date(Date.now() + 60_000).toISOString())).toBe(10);
  });

  it('keeps the larger cumulative spend per device and window, and reports only real changes', async () => {
    const w = { id: 'b1', period: '1d' as const, windowStart: 86_400_000 };
    expect(await store.reportUsage('d1', [{ ...w, spentUsd: 2 }])).toHaveLength(1);
    expect(await store.reportUsage('d1', [{ ...w, spentUsd: 1 }])).toHaveLength(0);
    expect(await store.reportUsage('d2', [{ ...w, spentUsd: 0.5 }])).toHaveLength(1);
    const [fleet] = await store.fleetWindows([w], 0);
    expect(fleet?.totalUsd).toBe(2.5);
    expect(fleet?.byDevice.get('d1')).toBe(2);
    expect(await store.fleetWindows('all', 2 * 86_400_000)).toEqual([]);
  });

  it('decides grants atomically: concurrent top-ups never hand out more than the limit', async () => {
    const key = { id: 'g1', period: '1d' as const, windowStart: 86_400_000 };
    const caps = await Promise.all(
      Array.from({ length: 30 }, (_, i) => store.topUpGrant(`dev-${i % 6}`, key, 1, (w) => nextGrant(w, `dev-${i % 6}`, 0.2))),
    );
    expect(caps.filter((c) => c > 0).length).toBeGreaterThan(0);
    const [fleet] = await store.fleetWindows([key], 0);
    const granted = [...(fleet?.caps.values() ?? [])].reduce((a, b) => a + b, 0);
    // Asked for far more than there is: everything is handed out, and not a cent more.
    expect(granted).toBeLessThanOrEqual(1 + 1e-9);
    expect(granted).toBeGreaterThan(1 - 1e-9);
  });

  it('keeps every virtual-key revocation and the newest kill switch of each scope in force', async () => {
    const at = (s: number): string => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
    await store.addCommand({ id: 'c1', issuedAt: at(1), scope: { kind: 'everyone' }, action: { kind: 'kill-switch', mode: 'block-ai' } });
    await store.addCommand({ id: 'c2', issuedAt: at(2), scope: { kind: 'everyone' }, action: { kind: 'revoke-virtual-key', virtualKeyId: 'vk1' } });
    await store.addCommand({ id: 'c3', issuedAt: at(3), scope: { kind: 'team', team: 'red' }, action: { kind: 'kill-switch', mode: 'pause-interception' } });
    await store.addCommand({ id: 'c4', issuedAt: at(4), scope: { kind: 'everyone' }, action: { kind: 'kill-switch', mode: 'off' } });
    expect((await store.commandsInForce()).map((c) => c.id)).toEqual(['c2', 'c3', 'c4']);
    await store.commandResult('c2', 'd1', false, 'no such key', at(5));
    await store.commandResult('c2', 'd1', true, null, at(6));
    expect(await store.commandResults('c2')).toEqual([{ deviceId: 'd1', ok: true, error: null, at: at(6) }]);
  });

  it('announces changes to its listeners', async () => {
    const heard = new Promise<StoreChange>((resolve) => {
      const off = store.onChange((c) => {
        off();
        resolve(c);
      });
    });
    await store.publish({ kind: 'policy', version: 42 });
    expect(await heard).toEqual({ kind: 'policy', version: 42 });
  });

  it('keeps settings and the admin trail', async () => {
    await store.setSetting('x', { a: 1 });
    await store.setSetting('x', 7);
    expect(await store.getSetting('x')).toBe(7);
    expect(await store.getSetting('missing')).toBeUndefined();
    await store.addAdminEvent({ time: 't1', who: 'admin token', action: 'one', detail: {}, before: null, after: null });
    await store.addAdminEvent({ time: 't2', who: 'ada@example.com', action: 'two', detail: { k: 'v' }, before: { days: 30 }, after: { days: 7 } });
    await store.addAdminEvent({ time: 't3', who: 'bob@example.com', action: 'three', detail: {}, before: null, after: [1] });
    const first = await store.listAdminEvents(2, null);
    expect(first.events.map(({ id: _id, ...e }) => e)).toEqual([
      { time: 't3', who: 'bob@example.com', action: 'three', detail: {}, before: null, after: [1] },
      { time: 't2', who: 'ada@example.com', action: 'two', detail: { k: 'v' }, before: { days: 30 }, after: { days: 7 } },
    ]);
    const rest = await store.listAdminEvents(2, first.nextCursor);
    expect(rest.events.map((e) => e.action)).toEqual(['one']);
    expect(rest.nextCursor).toBeNull();
  });

  it('filters records by app and by a rule that fired, and prunes the rules with their records', async () => {
    await store.addDevice({ id: 'dev-contract-rules', credentialSha256: 'c-rules', facts, team: null, enrolledAt: new Date().toISOString(), user: null });
    const rule = { id: 'no-cloud-keys', kind: 'secrets:aws-access-key-id', action: 'block' as const, target: 'input' as const, explanation: 'found an AWS access key ID' };
    const blocked = makeChain(3, 1, undefined, { decision: 'block', app: 'claude-cli/2.0.14', rules: [rule, rule], user: 'grace' });
    const allowed = makeChain(2, 4, blocked[2]!.hash, { app: 'OpenAI/JS 6.49.0', user: 'user:linus@example.org' });
    await store.storeAuditBatch('dev-contract-rules', [...blocked, ...allowed]);
    const byRule = await store.queryAudit({ device: 'dev-contract-rules', rule: 'no-cloud-keys' }, 2, null);
    expect(byRule.records.map((r) => r.record.seq)).toEqual([3, 2]);
    expect((await store.queryAudit({ rule: 'no-cloud-keys' }, 10, byRule.nextCursor)).records.map((r) => r.record.seq)).toEqual([1]);
    expect((await store.queryAudit({ app: 'OpenAI/JS 6.49.0' }, 10, null)).records.map((r) => r.record.seq)).toEqual([5, 4]);
    expect((await store.queryAudit({ rule: 'another-rule' }, 10, null)).records).toEqual([]);
    // The overview's top rules: records that fired each (a rule fired twice in a record counts once).
    expect(await store.ruleCounts(new Date(Date.now() - 3_600_000).toISOString(), 5)).toEqual([{ id: 'no-cloud-keys', count: 3 }]);
    expect(await store.ruleCounts(new Date(Date.now() + 60_000).toISOString(), 5)).toEqual([]);
    // By the record's user, alone, paged, and with another filter.
    const grace = await store.queryAudit({ user: 'grace' }, 2, null);
    expect(grace.records.map((r) => r.record.seq)).toEqual([3, 2]);
    expect((await store.queryAudit({ user: 'grace' }, 2, grace.nextCursor)).records.map((r) => r.record.seq)).toEqual([1]);
    expect((await store.queryAudit({ user: 'user:linus@example.org' }, 10, null)).records.map((r) => r.record.seq)).toEqual([5, 4]);
    expect((await store.queryAudit({ user: 'user:linus@example.org', rule: 'no-cloud-keys' }, 10, null)).records).toEqual([]);
    await store.pruneAudit(new Date(Date.now() + 60_000).toISOString());
    expect((await store.queryAudit({ rule: 'no-cloud-keys' }, 10, null)).records).toEqual([]);
  });

  it('keeps console sessions by hash until they expire or end', async () => {
    const now = new Date('2026-01-01T10:00:00Z');
    const row = {
      idSha256: 'a'.repeat(64),
      user: 'ada@example.com',
      roles: ['auditor', 'team-admin'] as const,
      teams: ['research'],
      csrfToken: 'csrf-1',
      via: 'oidc' as const,
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + 3_600_000).toISOString(),
    };
    await store.addSession({ ...row, roles: [...row.roles] });
    expect(await store.session(row.idSha256, now)).toEqual({ ...row, roles: ['auditor', 'team-admin'] });
    expect(await store.session(row.idSha256, new Date(now.getTime() + 3_600_000))).toBeNull();
    expect(await store.session('b'.repeat(64), now)).toBeNull();
    expect(await store.deleteSession(row.idSha256)).toBe(true);
    expect(await store.session(row.idSha256, now)).toBeNull();
    expect(await store.deleteSession(row.idSha256)).toBe(false);
  });
});
