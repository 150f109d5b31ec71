/**
 * The admin console (issue 17.1, 17.4) in real headless Chromium against a real gateway: sign in
 * with the admin token (break-glass), then every page with real data (a device enrolled over the
 * real protocol that uploaded a hash-chained audit batch): the overview's numbers, the devices, the
 * audit table filtered and paged on the server, a policy edit with an error shown at its JSON path,
 * then published, the inventory, the spend. An axe-core check on every page (no serious or
 * critical violations) and a screenshot of each, light and dark, saved under test-output/screenshots.
 */
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type TestBrowser } from '../support/chromium.js';
import { SimAgent, startTestGateway, type TestGateway } from '../support/gateway.js';
import { makeEntry } from '../support/audit-entries.js';
import { REPO_ROOT } from '../support/repo.js';
import { canonicalEntry, GENESIS_HASH, hashRecord } from '../../shared/audit/canonical.js';
import { PROTOCOL_V } from '../../shared/schema/protocol.js';
import { periodStart } from '../../shared/core/periods.js';
import type { AuditRecord } from '../../shared/schema/audit.js';
import { openAiClient } from '../support/clients.js';
import type { TestAgent } from '../support/agent.js';
import { connected, enrolledHome, policyHandled, startSyncedAgent, syncOf } from '../integration/sync/support.js';

const SHOTS = path.join(REPO_ROOT, 'test-output', 'screenshots');
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const ADMIN_TOKEN = 'console-test-admin-token-0123456789';

async function axe(page: Page): Promise<Array<{ id: string; impact: string | null; help: string }>> {
  await page.addScriptTag({ path: AXE });
  const result = (await page.evaluate('axe.run()')) as { violations: Array<{ id: string; impact: string | null; help: string }> };
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => ({ id: v.id, impact: v.impact, help: v.help }));
}

/** 120 records: every fifth blocked by a rule, the rest allowed, a cent each. */
function chain(): AuditRecord[] {
  const out: AuditRecord[] = [];
  let prev = GENESIS_HASH;
  for (let i = 0; i < 120; i++) {
    const blocked = i % 5 === 0;
    const entry = makeEntry({ time: new Date(Date.now() - (120 - i) * 1000).toISOString(), decision: blocked ? 'block' : 'allow', status: blocked ? 403 : 200, costUsd: blocked ? null : 0.01, rules: blocked ? [{ id: 'no-cloud-keys', kind: 'secrets:aws-access-key-id', action: 'block', target: 'input', explanation: 'found an AWS access key ID in the prompt' }] : [] });
    const seq = i + 1;
    const hash = hashRecord(seq, prev, canonicalEntry(entry));
    out.push({ ...entry, seq, prevHash: prev, hash });
    prev = hash;
  }
  return out;
}

describe('the admin console', () => {
  let gw: TestGateway;
  let agent: SimAgent;
  /** A real agent enrolled with the gateway: what the console publishes, it enforces. */
  let real: TestAgent;
  let realHome: string;
  let chromium: TestBrowser;
  let context: BrowserContext;
  let page: Page;

  const ready = async (name: string): Promise<void> => {
    await page.locator(`body[data-ready="${name}"]`).waitFor();
  };
  const shoot = async (name: string): Promise<void> => {
    expect(await axe(page)).toEqual([]);
    await page.screenshot({ path: path.join(SHOTS, `console-${name}.png`), fullPage: true });
  };

  beforeAll(async () => {
    gw = await startTestGateway({ adminToken: ADMIN_TOKEN });
    await gw.admin('PUT', '/admin/v1/policy', {
      version: 1,
      name: 'Acme standard',
      interception: { hosts: ['api.openai.com'] },
      virtualKeys: [{ id: 'vk-research', key: 'ovk-research-0123456789abcdef', owner: 'team:research', budget: { limitUsd: 100, period: '1M' } }],
    });
    agent = await SimAgent.connect(gw.url, await gw.enroll({ hostname: 'ada-laptop' }));
    const records = chain();
    agent.send({ v: PROTOCOL_V, type: 'audit.batch', records });
    await agent.until('audit.ack', (m) => m.seq === records.length);
    // The device's spend on the research key's budget this month, as a real agent reports it.
    agent.send({ v: PROTOCOL_V, type: 'usage.report', windows: [{ id: 'vk:vk-research', period: '1M', windowStart: periodStart('1M', Date.now()), spentUsd: 12.5 }] });
    await agent.until('budget.state', (m) => m.windows.some((w) => w.id === 'vk:vk-research' && w.fleetSpentUsd === 12.5));
    agent.send({ v: PROTOCOL_V, type: 'inventory', inventory: { scannedAt: new Date().toISOString(), apps: [{ id: 'claude-code', name: 'Claude Code', source: 'path', location: '/usr/local/bin/claude', version: null }], mcpServers: [], problems: [] } });
    await agent.next('inventory.decisions');
    realHome = await enrolledHome(gw);
    real = await startSyncedAgent(realHome);
    await connected(syncOf(real));
    await policyHandled(syncOf(real), 1);
    chromium = await launchChromium();
    // Playwright's own scripts (axe-core) under the page's strict CSP.
    context = await chromium.browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
    page = await context.newPage();
    await fs.mkdir(SHOTS, { recursive: true });
  });
  afterAll(async () => {
    agent?.close();
    await real?.close();
    if (realHome) await fs.rm(realHome, { recursive: true, force: true });
    await context?.close();
    await chromium?.close();
    await gw?.close();
  });

  it('sends a visitor without a session to sign in, and signs in with the admin token', async () => {
    await page.goto(`${gw.url}/console/`);
    await page.waitForURL(/\/console\/sign-in/);
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await ready('overview');
    expect(await page.locator('header').innerText()).toContain('admin token');
  });

  it('overview: devices, requests and blocks today, spend, the rules that blocked most', async () => {
    const stats = await page.locator('.stats').innerText();
    expect(stats).toMatch(/Requests today\s*120|120\s*Requests today/);
    expect(stats).toMatch(/Blocked today\s*24|24\s*Blocked today/);
    expect(stats).toContain('$0.96');
    expect(await page.getByRole('region', { name: 'Budgets this period' }).innerText()).toContain('$12.50 of $100.00 this month (13%)');
    expect(await page.getByRole('meter', { name: 'vk:vk-research' }).getAttribute('value')).toBe('12.5');
    expect(await page.locator('canvas').count()).toBe(2);
    expect(await page.locator('canvas').first().getAttribute('aria-label')).toContain('Blocked 24');
    expect(await page.locator('canvas').nth(1).getAttribute('aria-label')).toBe('Records by rule today: no-cloud-keys 24');
    await shoot('overview');
    await page.emulateMedia({ colorScheme: 'dark' });
    await shoot('overview-dark');
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('devices: the enrolled laptop with its state', async () => {
    await page.getByRole('link', { name: 'Devices' }).click();
    await ready('devices');
    const text = await page.locator('main').innerText();
    expect(text).toContain('ada-laptop');
    expect(text).toMatch(/Protected|Needs attention/);
    // The detail: who, the OS, the agent and policy versions, CA trust, when it was last seen.
    await page.locator('summary', { hasText: 'ada-laptop' }).click();
    const detail = await page.locator('details[open]').innerText();
    for (const label of ['User', 'OS', 'Agent version', 'Policy version', 'CA trusted', 'Last seen', 'Enrolled']) expect(detail).toContain(label);
    expect(detail).toMatch(/Last seen\s+connected now/);
    await shoot('devices');
    await page.getByRole('button', { name: 'Block all AI' }).first().click();
    await page.getByText('All AI traffic blocked for every device.').waitFor();
    await agent.until('command', (m) => m.action.kind === 'kill-switch' && m.action.mode === 'block-ai' && m.scope.kind === 'everyone');
    await ready('devices');
    await page.getByRole('button', { name: 'Lift' }).click();
    await agent.until('command', (m) => m.action.kind === 'kill-switch' && m.action.mode === 'off');
  });

  it('audit: pages on the server, filters by decision, and offers the filtered export', async () => {
    await page.getByRole('link', { name: 'Audit' }).click();
    await ready('audit');
    expect(await page.locator('tbody tr').count()).toBe(50);
    await page.getByRole('link', { name: 'Older records →' }).click();
    await ready('audit');
    expect(await page.locator('tbody tr').count()).toBe(50);
    await page.getByRole('link', { name: 'Older records →' }).click();
    await ready('audit');
    expect(await page.locator('tbody tr').count()).toBe(20);
    await page.getByLabel('Decision').selectOption('block');
    await page.getByRole('button', { name: 'Apply' }).click();
    await ready('audit');
    expect(await page.locator('tbody tr').count()).toBe(24);
    expect(new Set(await page.locator('tbody tr td:nth-child(5)').allInnerTexts())).toEqual(new Set(['Blocked']));
    await page.getByLabel('Decision').selectOption('');
    await page.getByLabel('Rule that fired').fill('no-cloud-keys');
    await page.getByRole('button', { name: 'Apply' }).click();
    await ready('audit');
    expect(await page.locator('tbody tr').count()).toBe(24);
    await page.getByLabel('Decision').selectOption('block');
    await page.getByRole('button', { name: 'Apply' }).click();
    await ready('audit');
    const href = await page.getByRole('link', { name: 'Export this view (CSV)' }).getAttribute('href');
    expect(href).toContain('decision=block');
    const csv = await page.evaluate(async (url) => (await fetch(url as string)).text(), href);
    expect(csv.trim().split('\n')).toHaveLength(25);
    // The record's user: nobody by that name, then the laptop's user (the other filters kept).
    await page.getByLabel('User', { exact: true }).fill('nobody@example.org');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.locator('#f-user[value="nobody@example.org"]').waitFor();
    await ready('audit');
    expect(await page.locator('main').innerText()).toContain('No records match.');
    await page.getByLabel('User', { exact: true }).fill('ada@example.org');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.locator('#f-user[value="ada@example.org"]').waitFor();
    await ready('audit');
    expect(await page.locator('tbody tr').count()).toBe(24);
    await shoot('audit');
  });

  it('policy: an error is shown at its JSON path; a valid edit is published, listed, diffed, and enforced by a connected agent', async () => {
    await page.getByRole('link', { name: 'Policy' }).click();
    await ready('policy');
    const editor = page.getByLabel(/Current version 1/);
    const doc = JSON.parse(await editor.inputValue()) as Record<string, unknown>;
    await editor.fill(JSON.stringify({ ...doc, failMode: 'sometimes' }, null, 2));
    await page.getByRole('button', { name: 'Check' }).click();
    expect(await page.locator('#policy-problems').innerText()).toContain('failMode');
    await page.getByRole('button', { name: 'Publish' }).click();
    expect(await page.locator('#notice').innerText()).toContain('Fix the problems');
    const ask = async (): Promise<number> => {
      const sdk = openAiClient({ proxyUrl: real.proxyUrl, ca: real.caPem, maxRetries: 0, apiKey: 'sk-user-own-key' });
      try {
        await sdk.client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'deploy with AKIAIOSFODNN7EXAMPLE please' }] });
        return 200;
      } catch (err) {
        return (err as { status?: number }).status ?? 0;
      } finally {
        await sdk.close();
      }
    };
    expect(await ask()).toBe(200);
    await editor.fill(JSON.stringify({ ...doc, version: 2, name: 'Acme standard v2', guardrails: [{ id: 'no-cloud-keys', type: 'secrets', action: 'block', on: ['input'] }] }, null, 2));
    const enforced = policyHandled(syncOf(real), 2);
    await page.getByRole('button', { name: 'Publish' }).click();
    await page.getByText('Version 2 published and signed.').waitFor();
    // The connected agent takes the signed version and enforces it.
    expect(await enforced).toBe('applied');
    expect(await ask()).toBe(403);
    expect((await gw.admin('GET', '/admin/v1/policy')).body).toMatchObject({ version: 2, document: { name: 'Acme standard v2' } });
    expect(await page.getByRole('button', { name: 'Roll back to 1' }).count()).toBe(1);
    await ready('policy');
    expect(await page.locator('.diff').innerText()).toMatch(/name\s+"Acme standard" → "Acme standard v2"/);
    await shoot('policy');
  });

  it('apps and MCP servers: the reported app, denied for everyone from the page', async () => {
    await page.getByRole('link', { name: 'Apps and MCP servers' }).click();
    await ready('inventory');
    expect(await page.locator('main').innerText()).toContain('Claude Code');
    await page.getByRole('button', { name: 'Deny' }).click();
    await page.getByText('Claude Code denied for everyone.').waitFor();
    await agent.until('inventory.decisions', (m) => m.items.some((i) => i.key === 'claude-code' && i.decision === 'denied'));
    await shoot('inventory');
  });

  it('spend: by user this month, with a chart', async () => {
    await page.getByRole('link', { name: 'Spend' }).click();
    await ready('spend');
    const text = await page.locator('main').innerText();
    expect(text).toContain('vk:team-a');
    expect(text).toContain('$0.96');
    expect(await page.getByRole('img', { name: /^Spend per day this month: \d{4}-\d{2}-\d{2}/ }).count()).toBe(1);
    await shoot('spend');
  });
});
