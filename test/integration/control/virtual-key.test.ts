/**
 * `POST /v1/virtual-key` of a real running agent (issue 13): the tray picks a virtual key, and a
 * request that carries none of its own (the official SDK with a placeholder key, through the real
 * proxy) runs as it: the key's provider key replaces the placeholder, its budget is charged, and the
 * record names it. Only keys this user may pick; the pick survives a restart; none undoes it.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAiClient } from '../../support/clients.js';
import { startTestAgent, type TestAgent } from '../../support/agent.js';
import { budgetsView, type BudgetsView } from '../../../shared/schema/control.js';
import { readRecords } from '../../../agent/audit/records.js';
import type { PolicyInput } from '../../../shared/schema/policy.js';

const POLICY: PolicyInput = {
  version: 1,
  name: 'pick',
  interception: { hosts: ['api.openai.com'] },
  virtualKeys: [
    { id: 'vk-team', key: 'ovk-pick-team-0123456789', owner: 'org', providerKeys: { openai: 'keychain:openai-pick' }, budget: { limitUsd: 5, period: '1d' } },
    { id: 'vk-finance', key: 'ovk-pick-finance-0123456789', owner: 'team:finance', providerKeys: { openai: 'keychain:openai-pick' } },
  ],
};

describe('picking a virtual key in the tray', () => {
  let t: TestAgent;
  let token: string;

  const call = async (method: string, pathname: string, body?: unknown): Promise<{ status: number; body: any }> => {
    const res = await fetch(`${t.agent.control.url}${pathname}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    return { status: res.status, body: await res.json() };
  };
  const budgets = async (): Promise<BudgetsView> => budgetsView.parse((await call('GET', '/v1/budgets')).body);
  const chat = async (): Promise<void> => {
    const sdk = openAiClient({ proxyUrl: t.proxyUrl, ca: t.caPem, maxRetries: 0, apiKey: 'placeholder-not-a-key' });
    try {
      await sdk.client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello from a picked key' }] });
    } finally {
      await sdk.close();
    }
  };
  const keySpent = (view: BudgetsView): number => view.principals.find((p) => p.id === 'vk:vk-team')?.budgets.find((b) => b.id === 'vk:vk-team')?.spentUsd ?? Number.NaN;

  beforeAll(async () => {
    t = await startTestAgent({ policy: POLICY });
    await t.agent.ca.keychain.set('secret:openai-pick', 'sk-real-picked-key');
    token = (await fs.readFile(path.join(t.home, 'control.token'), 'utf8')).trim();
  });
  afterAll(async () => t?.close());

  it('refuses a key this user may not pick, and a malformed body, naming why', async () => {
    const other = await call('POST', '/v1/virtual-key', { id: 'vk-finance' });
    expect(other.status).toBe(403);
    expect(other.body.error).toMatchObject({ code: 'virtual_key_not_selectable', message: expect.stringContaining('vk-finance') });
    const bad = await call('POST', '/v1/virtual-key', { key: 'vk-team' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_request');
    expect((await budgets()).selected).toBeNull();
  });

  it('runs a request without a key of its own as the picked key: its provider key, its budget, its record', async () => {
    expect((await call('POST', '/v1/virtual-key', { id: 'vk-team' })).body).toEqual({ selected: 'vk-team' });
    const before = await budgets();
    expect(before.selected).toBe('vk-team');
    t.provider.reset();
    await chat();
    const seen = t.provider.requests[0];
    expect(seen?.headers.authorization).toBe('Bearer sk-real-picked-key');
    expect(keySpent(await budgets())).toBeGreaterThan(keySpent(before));
    const last = readRecords(t.agent.store.audit.connection(), { afterSeq: 0 }).at(-1);
    expect(last).toMatchObject({ principal: 'vk:vk-team', decision: 'allow' });
  });

  it('keeps the pick across a restart, and none undoes it', async () => {
    await t.stopAgent();
    t = await startTestAgent({ policy: POLICY, home: t.home, provider: { provider: t.provider, ca: t.upstreamCa } });
    token = (await fs.readFile(path.join(t.home, 'control.token'), 'utf8')).trim();
    expect((await budgets()).selected).toBe('vk-team');
    expect((await call('POST', '/v1/virtual-key', { id: null })).body).toEqual({ selected: null });
    t.provider.reset();
    await chat();
    expect(t.provider.requests[0]?.headers.authorization).toBe('Bearer placeholder-not-a-key');
    const last = readRecords(t.agent.store.audit.connection(), { afterSeq: 0 }).at(-1);
    expect(last?.principal).toMatch(/^user:/);
  });
});
