/**
 * Console sign-in in real headless Chromium (issue 17.4): through a real OpenID provider on another
 * site (`localhost` against a gateway on 127.0.0.1, so SameSite applies for real) by its login form,
 * landing on the console as an admin whose page can call the admin API; an auditor's publish refused
 * 403 by the API; break-glass with the "Admin token" field. axe-core on the sign-in page; screenshots
 * under test-output/screenshots/.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { launchChromium, type TestBrowser } from '../support/chromium.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { startTestIdp, type TestIdp } from '../support/oidc-provider.js';
import { exampleFile, REPO_ROOT } from '../support/repo.js';

const SHOTS = path.join(REPO_ROOT, 'test-output', 'screenshots');
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const USERS = {
  ada: { password: 'ada-pass', email: 'ada@example.com', groups: ['outpost-admins'] },
  audrey: { password: 'audrey-pass', email: 'audrey@example.com', groups: ['security-auditors'] },
};

let idp: TestIdp;
let gw: TestGateway;
let chromium: TestBrowser;
let examplePolicy: unknown;

beforeAll(async () => {
  idp = await startTestIdp(USERS, 'localhost');
  process.env.OUTPOST_TEST_E2E_OIDC_SECRET = idp.clientSecret;
  gw = await startTestGateway({
    console: {
      sessionHours: 8,
      oidc: {
        issuer: idp.issuer,
        clientId: idp.clientId,
        clientSecret: { env: 'OUTPOST_TEST_E2E_OIDC_SECRET' },
        scopes: ['email', 'profile', 'groups'],
        userClaim: 'email',
        groupsClaim: 'groups',
        roles: { 'outpost-admins': ['admin'], 'security-auditors': ['auditor'] },
        teams: {},
      },
    },
  });
  idp.register([`${gw.url}/console/auth/oidc/callback`]);
  examplePolicy = JSON.parse(await fs.readFile(exampleFile('policy.json'), 'utf8'));
  chromium = await launchChromium();
  await fs.mkdir(SHOTS, { recursive: true });
});
afterAll(async () => {
  await chromium?.close();
  await gw?.close();
  await idp?.close();
  delete process.env.OUTPOST_TEST_E2E_OIDC_SECRET;
});

/** Signs `login` in through the provider's form in a fresh browser context; answers the page on the console. */
async function signInWithSso(login: keyof typeof USERS): Promise<{ context: BrowserContext; page: Page }> {
  const context = await chromium.browser.newContext();
  const page = await context.newPage();
  await page.goto(`${gw.url}/console/sign-in`);
  await page.getByRole('link', { name: 'Sign in with single sign-on' }).click();
  await page.waitForURL((u) => u.origin === idp.issuer);
  await page.getByLabel('User name').fill(login);
  await page.getByLabel('Password').fill(USERS[login].password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${gw.url}/console/`);
  return { context, page };
}

/** What the page's own script would see calling the gateway (same origin, the cookie sent by the browser). */
function inPage(page: Page, method: string, pathname: string, body?: unknown): Promise<{ status: number; json: any }> {
  return page.evaluate(
    async ([m, p, b]) => {
      const session = (await (await fetch('/console/auth/session')).json()) as { csrfToken?: string };
      const res = await fetch(p as string, {
        method: m as string,
        headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrfToken ?? '' },
        ...(b === undefined ? {} : { body: JSON.stringify(b) }),
      });
      return { status: res.status, json: (await res.json()) as unknown };
    },
    [method, pathname, body] as const,
  );
}

describe('console sign-in in Chromium', () => {
  it('passes axe on the sign-in page (no serious violations) and is saved as a screenshot', async () => {
    // axe is injected into a context that ignores the page's CSP (which rightly refuses any foreign script).
    const context = await chromium.browser.newContext({ bypassCSP: true });
    try {
      const page = await context.newPage();
      await page.goto(`${gw.url}/console/sign-in?error=token`);
      await page.screenshot({ path: path.join(SHOTS, 'console-sign-in.png'), fullPage: true });
      await page.addScriptTag({ path: AXE });
      const result = (await page.evaluate('axe.run()')) as { violations: Array<{ id: string; impact: string | null }> };
      expect(result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('signs an admin in through the identity provider onto the console, whose page can publish', async () => {
    const { context, page } = await signInWithSso('ada');
    try {
      const session = await inPage(page, 'GET', '/console/auth/session');
      expect(session.json).toMatchObject({ user: 'ada@example.com', roles: ['admin'], via: 'oidc' });
      const cookies = await context.cookies(gw.url);
      const cookie = cookies.find((c) => c.name === 'outpost_session');
      expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
      // The login state is gone once used.
      expect(cookies.some((c) => c.name === 'outpost_oidc')).toBe(false);
      expect((await inPage(page, 'PUT', '/admin/v1/policy', examplePolicy)).status).toBe(200);
    } finally {
      await context.close();
    }
  });

  it('signs an auditor in whose publish the API refuses with 403', async () => {
    const { context, page } = await signInWithSso('audrey');
    try {
      expect((await inPage(page, 'GET', '/console/auth/session')).json.roles).toEqual(['auditor']);
      expect((await inPage(page, 'GET', '/admin/v1/policy/versions')).status).toBe(200);
      const publish = await inPage(page, 'PUT', '/admin/v1/policy', examplePolicy);
      expect(publish.status).toBe(403);
      expect(publish.json.error.code).toBe('forbidden');
      // The console's policy page offers the auditor no Publish button, and says why.
      await page.goto(`${gw.url}/console/#/policy`);
      await page.locator('body[data-ready="policy"]').waitFor();
      expect(await page.getByRole('button', { name: 'Publish' }).count()).toBe(0);
      expect(await page.locator('main').innerText()).toContain('Your role can read the policy but not publish it.');
    } finally {
      await context.close();
    }
  });

  it('signs in with the admin token (break-glass) from the form', async () => {
    const context = await chromium.browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${gw.url}/console/sign-in`);
      await page.getByLabel('Admin token').fill('not-the-token');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL((u) => u.href === `${gw.url}/console/sign-in?error=token`);
      await expect(page.getByRole('alert').textContent()).resolves.toContain('not valid');
      await page.getByLabel('Admin token').fill(gw.gateway.adminToken);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(`${gw.url}/console/`);
      expect((await inPage(page, 'GET', '/console/auth/session')).json).toMatchObject({ user: 'admin token', roles: ['admin'], via: 'admin-token' });
    } finally {
      await context.close();
    }
  });
});
