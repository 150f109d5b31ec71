/**
 * Re-trust in standalone mode, seen by Chromium through its NSS database (FIELD-NOTES
 * "Certificates": Chromium on Linux reads `sql:$HOME/.pki/nssdb`). A host added to the policy while
 * the agent was stopped: at start the agent re-issues its root (same key, wider name constraints)
 * and puts it into the NSS database that trusted the old one. A profile that kept the old root
 * still reaches the old hosts and gets a certificate error for the new one.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { startTestAgent, type TestAgent } from '../../support/agent.js';
import { nssStore } from '../../../agent/ca/trust/nss.js';
import { tempDir } from './fixtures.js';

const OPENAI = 'api.openai.com';
const ANTHROPIC = 'api.anthropic.com';

/** Headless Chromium with HOME = `home` (its NSS database), through the agent's proxy. */
async function visit(home: string, proxyUrl: string, url: string): Promise<{ ok: true; issuer: string } | { ok: false; error: string }> {
  const browser: Browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    env: { ...process.env, HOME: home },
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', `--proxy-server=${proxyUrl}`],
  });
  try {
    const page = await browser.newPage();
    const response = await page.goto(url, { timeout: 20_000 });
    return { ok: true, issuer: (await response?.securityDetails())?.issuer ?? '' };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  } finally {
    await browser.close();
  }
}

describe('standalone re-trust, as Chromium sees it', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let first: TestAgent;
  let t: TestAgent;
  /** A profile whose NSS database kept the old root (another user's, or one the agent cannot see). */
  let stale: string;

  beforeAll(async () => {
    tmp = await tempDir('outpost-retrust-');
    first = await startTestAgent({ policy: { version: 1, name: 'v1', interception: { hosts: [OPENAI] } } });
    // What `outpost ca trust --user-only` does: the agent's test user home is its own home.
    const nssdb = path.join(first.home, '.pki', 'nssdb');
    const old = await first.agent.ca.trusted();
    if (old === null) throw new Error('no root');
    await nssStore(nssdb).install(old);
    stale = path.join(tmp.dir, 'stale');
    await fs.cp(path.join(first.home, '.pki'), path.join(stale, '.pki'), { recursive: true });
    await first.stopAgent();
    t = await startTestAgent({ home: first.home, policy: { version: 2, name: 'v2', interception: { hosts: [OPENAI, ANTHROPIC] } }, provider: { provider: first.provider, ca: first.upstreamCa } });
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await first?.close();
    await tmp?.cleanup();
  });

  it('re-trusted the re-issued root in the NSS database that trusted the old one, by itself', async () => {
    const now = await t.agent.ca.trusted();
    expect(now && (await nssStore(path.join(t.home, '.pki', 'nssdb')).isTrusted(now))).toBe(true);
    expect(t.agent.ca.lastRetrust()).toEqual([expect.objectContaining({ store: `nss:${path.join(t.home, '.pki', 'nssdb')}`, ok: true })]);
    expect(t.agent.status().ca.retrust).toEqual({ pending: [], command: null });
  });

  it('Chromium reaches the new host through the agent with the new root', async () => {
    const seen = await visit(t.home, t.proxyUrl, `https://${ANTHROPIC}/v1/models`);
    // Issued by the agent's root: intercepted, not tunnelled.
    expect(seen).toMatchObject({ ok: true, issuer: expect.stringMatching(/^Outpost local CA/) });
  }, 60_000);

  it('a profile that kept the old root: the old host works, the new host is a certificate error', async () => {
    expect(await visit(stale, t.proxyUrl, `https://${OPENAI}/v1/models`)).toMatchObject({ ok: true });
    const denied = await visit(stale, t.proxyUrl, `https://${ANTHROPIC}/v1/models`);
    // Same key and subject, so Chromium builds the chain to the old root, whose constraints leave the host out.
    expect(denied).toMatchObject({ ok: false, error: expect.stringContaining('net::ERR_CERT_INVALID') });
  }, 60_000);
});
