/**
 * Console sessions on the real gateway (issue 17.2): the sign-in page, break-glass sign-in with the
 * admin token, the session cookie and its CSRF token, roles on the admin API and the admin audit
 * trail, over real HTTP.
 */
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleSession, type ConsoleRole } from '../../../shared/schema/console.js';
import { secretHash } from '../../../gateway/http/bearer.js';
import { exampleFile } from '../../support/repo.js';
import { enrollDevice, startTestGateway, type TestGateway } from '../../support/gateway.js';

let gw: TestGateway;
let examplePolicy: unknown;

beforeAll(async () => {
  gw = await startTestGateway();
  examplePolicy = JSON.parse(await fs.readFile(exampleFile('policy.json'), 'utf8'));
});
afterAll(() => gw.close());

/** Signs in with the sign-in form's body, as the browser sends it; answers the raw response. */
function postForm(token: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${gw.url}/console/auth/token`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({ token }).toString(),
  });
}

/** The `name=value` part of a Set-Cookie. */
function cookieOf(res: Response): string {
  const set = res.headers.get('set-cookie');
  if (set === null) throw new Error('no Set-Cookie');
  return set.split(';')[0]!;
}

/** Calls the admin API with a session cookie (and the CSRF token when given). */
async function asSession(cookie: string, method: string, pathname: string, body?: unknown, csrf?: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${gw.url}${pathname}`, {
    method,
    headers: { cookie, ...(csrf === undefined ? {} : { 'x-csrf-token': csrf }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

/** A session of `roles` put straight into the gateway's store, as the OpenID sign-in makes one. */
async function sessionFor(user: string, roles: ConsoleRole[], teams: string[] = []): Promise<{ cookie: string; csrf: string }> {
  const id = crypto.randomBytes(32).toString('base64url');
  const csrf = crypto.randomBytes(16).toString('hex');
  const now = new Date();
  await gw.gateway.store.addSession({
    idSha256: secretHash(id),
    user,
    roles,
    teams,
    csrfToken: csrf,
    via: 'oidc',
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + 3_600_000).toISOString(),
  });
  return { cookie: `outpost_session=${id}`, csrf };
}

describe('console sign-in page', () => {
  it('is plain HTML under a strict CSP with an "Admin token" field and a "Sign in" button, and no script', async () => {
    const res = await fetch(`${gw.url}/console/sign-in`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    const html = await res.text();
    expect(html).toMatch(/<label for="token">Admin token<\/label>/);
    expect(html).toMatch(/<button type="submit">Sign in<\/button>/);
    expect(html).not.toMatch(/<script|\sstyle=|\son[a-z]+=/i);
    const css = await fetch(`${gw.url}/console/auth/sign-in.css`);
    expect(css.headers.get('content-type')).toContain('text/css');
  });

  it('shows only its own messages for ?error=, never the query text', async () => {
    const html = await (await fetch(`${gw.url}/console/sign-in?error=%3Cimg%20src%3Dx%3E`)).text();
    expect(html).not.toContain('<img');
    expect(await (await fetch(`${gw.url}/console/sign-in?error=token`)).text()).toContain('That admin token is not valid.');
  });
});

describe('break-glass sign-in and the session', () => {
  it('refuses a wrong token back to the page, sets no cookie and audits the attempt', async () => {
    const res = await postForm('not-the-admin-token');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/console/sign-in?error=token');
    expect(res.headers.get('set-cookie')).toBeNull();
    const json = await fetch(`${gw.url}/console/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: 'wrong' }) });
    expect(json.status).toBe(401);
    const trail = await gw.admin('GET', '/admin/v1/admin-audit');
    expect(trail.body.events.some((e: { action: string }) => e.action === 'console.sign-in-refused')).toBe(true);
    expect(trail.text).not.toContain('not-the-admin-token');
  });

  it('refuses a sign-in posted from another site', async () => {
    const crossSite: Array<Record<string, string>> = [{ origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site' }, { origin: 'https://evil.example' }, { origin: 'null' }];
    for (const headers of crossSite) {
      const res = await postForm(gw.gateway.adminToken, headers);
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/console/sign-in?error=cross-site');
      expect(res.headers.get('set-cookie')).toBeNull();
    }
    // What Chromium sends from the page itself under no-referrer: Origin null, but Sec-Fetch-Site decides.
    expect((await postForm(gw.gateway.adminToken, { origin: 'null', 'sec-fetch-site': 'same-origin' })).headers.get('location')).toBe('/console/');
  });

  it('opens an admin session in an HttpOnly, SameSite=Strict cookie, lands on /console/ and is audited', async () => {
    const res = await postForm(gw.gateway.adminToken, { origin: gw.url, 'sec-fetch-site': 'same-origin' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/console/');
    const set = res.headers.get('set-cookie') ?? '';
    expect(set).toMatch(/^outpost_session=[A-Za-z0-9_-]{43}; /);
    expect(set).toContain('HttpOnly');
    expect(set).toContain('SameSite=Strict');
    expect(set).toContain('Path=/');
    // Plain HTTP on loopback: a Secure cookie would never come back.
    expect(set).not.toContain('Secure');

    const cookie = cookieOf(res);
    const session = consoleSession.parse(await (await fetch(`${gw.url}/console/auth/session`, { headers: { cookie } })).json());
    expect(session).toMatchObject({ user: 'admin token', roles: ['admin'], teams: [], via: 'admin-token' });

    const trail = await gw.admin('GET', '/admin/v1/admin-audit');
    expect(trail.body.events[0]).toMatchObject({ who: 'admin token', action: 'console.sign-in', detail: { via: 'admin-token' } });
    // The store keeps the cookie's hash only.
    expect(await gw.gateway.store.session(secretHash(cookie.split('=')[1]!), new Date())).not.toBeNull();
  });

  it('needs the CSRF token on every state-changing admin request made with the cookie', async () => {
    const cookie = cookieOf(await postForm(gw.gateway.adminToken));
    const { csrfToken } = consoleSession.parse(await (await fetch(`${gw.url}/console/auth/session`, { headers: { cookie } })).json());

    expect((await asSession(cookie, 'GET', '/admin/v1/devices')).status).toBe(200);
    const without = await asSession(cookie, 'PUT', '/admin/v1/settings/retention', { days: 30 });
    expect(without.status).toBe(403);
    expect(without.body.error.code).toBe('csrf_failed');
    expect((await asSession(cookie, 'PUT', '/admin/v1/settings/retention', { days: 30 }, 'wrong-csrf')).body.error.code).toBe('csrf_failed');
    expect((await gw.admin('GET', '/admin/v1/settings/retention')).body.days).not.toBe(30);

    const ok = await asSession(cookie, 'PUT', '/admin/v1/settings/retention', { days: 30 }, csrfToken);
    expect(ok.status).toBe(200);
    const trail = await gw.admin('GET', '/admin/v1/admin-audit');
    expect(trail.body.events[0]).toMatchObject({ who: 'admin token', action: 'settings.retention', before: { days: 365 }, after: { days: 30 } });
  });

  it('signs out only with the CSRF token, ends the session everywhere and audits it', async () => {
    const cookie = cookieOf(await postForm(gw.gateway.adminToken));
    const { csrfToken } = consoleSession.parse(await (await fetch(`${gw.url}/console/auth/session`, { headers: { cookie } })).json());
    const refused = await fetch(`${gw.url}/console/auth/sign-out`, { method: 'POST', headers: { cookie } });
    expect(refused.status).toBe(403);
    const out = await fetch(`${gw.url}/console/auth/sign-out`, { method: 'POST', headers: { cookie, 'x-csrf-token': csrfToken } });
    expect(out.status).toBe(200);
    expect(out.headers.get('set-cookie')).toMatch(/^outpost_session=; .*Max-Age=0/);
    expect((await fetch(`${gw.url}/console/auth/session`, { headers: { cookie } })).status).toBe(401);
    expect((await asSession(cookie, 'GET', '/admin/v1/devices')).status).toBe(401);
    const trail = await gw.admin('GET', '/admin/v1/admin-audit');
    expect(trail.body.events[0]).toMatchObject({ who: 'admin token', action: 'console.sign-out' });
  });

  it('lets a wrong bearer token decide even beside a valid cookie, and refuses an expired session', async () => {
    const cookie = cookieOf(await postForm(gw.gateway.adminToken));
    const res = await fetch(`${gw.url}/admin/v1/devices`, { headers: { cookie, authorization: 'Bearer wrong-token-of-some-length' } });
    expect(res.status).toBe(401);
    const id = crypto.randomBytes(32).toString('base64url');
    await gw.gateway.store.addSession({ idSha256: secretHash(id), user: 'old@example.com', roles: ['admin'], teams: [], csrfToken: 'c', via: 'oidc', createdAt: '2020-01-01T00:00:00.000Z', expiresAt: '2020-01-01T08:00:00.000Z' });
    expect((await asSession(`outpost_session=${id}`, 'GET', '/admin/v1/devices')).status).toBe(401);
  });

  it('marks the cookie Secure when the console is served over HTTPS', async () => {
    const tls = await startTestGateway({ publicUrl: 'https://outpost.example.com' });
    try {
      const res = await fetch(`${tls.url}/console/auth/token`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: tls.gateway.adminToken }) });
      expect(res.status).toBe(200);
      expect(res.headers.get('set-cookie')).toContain('; Secure');
    } finally {
      await tls.close();
    }
  });
});

describe('roles on the admin API', () => {
  it('lets an auditor read everything and change nothing', async () => {
    const { cookie, csrf } = await sessionFor('audrey@example.com', ['auditor']);
    for (const p of ['/admin/v1/devices', '/admin/v1/audit', '/admin/v1/spend?by=team', '/admin/v1/admin-audit', '/admin/v1/settings/retention']) {
      expect((await asSession(cookie, 'GET', p)).status, p).toBe(200);
    }
    const publish = await asSession(cookie, 'PUT', '/admin/v1/policy', examplePolicy, csrf);
    expect(publish.status).toBe(403);
    expect(publish.body.error.code).toBe('forbidden');
    expect(publish.body.error.message).toContain('read-only');
    expect((await asSession(cookie, 'POST', '/admin/v1/commands', { scope: { kind: 'everyone' }, action: { kind: 'kill-switch', mode: 'block-ai' } }, csrf)).status).toBe(403);
    expect((await asSession(cookie, 'POST', '/admin/v1/enrollment-tokens', {}, csrf)).status).toBe(403);
  });

  it('scopes a team-admin to its teams', async () => {
    const red = await gw.enroll({ team: 'red', hostname: 'red-1' });
    const blueToken = await gw.admin('POST', '/admin/v1/enrollment-tokens', { team: 'blue' });
    const blue = await enrollDevice(gw.url, blueToken.body.token as string, 'blue-1');
    const { cookie, csrf } = await sessionFor('tess@example.com', ['team-admin'], ['red']);

    const devices = await asSession(cookie, 'GET', '/admin/v1/devices');
    expect(devices.body.devices.map((d: { id: string }) => d.id)).toEqual([red.deviceId]);
    expect((await asSession(cookie, 'POST', '/admin/v1/enrollment-tokens', { team: 'red' }, csrf)).status).toBe(201);
    expect((await asSession(cookie, 'POST', '/admin/v1/enrollment-tokens', { team: 'blue' }, csrf)).status).toBe(403);
    expect((await asSession(cookie, 'POST', '/admin/v1/enrollment-tokens', {}, csrf)).status).toBe(403);

    const kill = { kind: 'kill-switch', mode: 'block-ai' };
    const mine = await asSession(cookie, 'POST', '/admin/v1/commands', { scope: { kind: 'team', team: 'red' }, action: kill }, csrf);
    expect(mine.status).toBe(202);
    expect((await asSession(cookie, 'GET', `/admin/v1/commands/${mine.body.id as string}`)).status).toBe(200);
    expect((await asSession(cookie, 'POST', '/admin/v1/commands', { scope: { kind: 'device', deviceId: red.deviceId }, action: { kind: 'kill-switch', mode: 'off' } }, csrf)).status).toBe(202);
    expect((await asSession(cookie, 'POST', '/admin/v1/commands', { scope: { kind: 'device', deviceId: blue.deviceId }, action: kill }, csrf)).status).toBe(403);
    expect((await asSession(cookie, 'POST', '/admin/v1/commands', { scope: { kind: 'everyone' }, action: kill }, csrf)).status).toBe(403);
    expect((await asSession(cookie, 'PUT', '/admin/v1/policy', examplePolicy, csrf)).status).toBe(403);
    expect((await asSession(cookie, 'GET', '/admin/v1/audit')).status).toBe(403);

    const trail = await gw.admin('GET', '/admin/v1/admin-audit?limit=3');
    expect(trail.body.events[0]).toMatchObject({ who: 'tess@example.com', action: 'command.kill-switch' });
  });

  it('lets a session with no role do nothing', async () => {
    const { cookie } = await sessionFor('nobody@example.com', []);
    expect((await asSession(cookie, 'GET', '/admin/v1/devices')).status).toBe(403);
  });
});

describe('the admin audit trail', () => {
  it('names who published a policy, with the version before and after, and pages newest first', async () => {
    const { cookie, csrf } = await sessionFor('ada@example.com', ['admin']);
    const first = await asSession(cookie, 'PUT', '/admin/v1/policy', examplePolicy, csrf);
    expect(first.status).toBe(200);
    const second = await gw.admin('PUT', '/admin/v1/policy', examplePolicy);
    const page = await gw.admin('GET', '/admin/v1/admin-audit?limit=2');
    expect(page.body.events[0]).toMatchObject({ who: 'admin token', action: 'policy.put', before: { version: first.body.version }, after: { version: second.body.version } });
    expect(page.body.events[1]).toMatchObject({ who: 'ada@example.com', action: 'policy.put', after: { version: first.body.version } });
    expect(page.body.events[0].before.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(page.body.nextCursor).toBeTypeOf('number');
    const next = await gw.admin('GET', `/admin/v1/admin-audit?limit=2&cursor=${page.body.nextCursor as number}`);
    expect(next.body.events[0].id).toBeLessThan(page.body.events[1].id);
    expect((await gw.admin('GET', '/admin/v1/admin-audit?limit=0')).status).toBe(400);
  });

  it('keeps the state before and after a kill switch, a device revocation, a key revocation and an inventory decision', async () => {
    const last = async (): Promise<{ action: string; before: unknown; after: unknown }> => (await gw.admin('GET', '/admin/v1/admin-audit?limit=1')).body.events[0];
    const scope = { kind: 'team', team: 'trail-team' };
    await gw.admin('POST', '/admin/v1/commands', { scope, action: { kind: 'kill-switch', mode: 'block-ai' } });
    expect(await last()).toMatchObject({ action: 'command.kill-switch', before: { mode: 'off' }, after: { mode: 'block-ai' } });
    await gw.admin('POST', '/admin/v1/commands', { scope, action: { kind: 'kill-switch', mode: 'pause-interception' } });
    expect(await last()).toMatchObject({ before: { mode: 'block-ai' }, after: { mode: 'pause-interception' } });

    const device = await gw.enroll({ hostname: 'trail-laptop' });
    await gw.admin('POST', '/admin/v1/commands', { scope: { kind: 'device', deviceId: device.deviceId }, action: { kind: 'revoke-device' } });
    expect(await last()).toMatchObject({ action: 'command.revoke-device', before: { revoked: false }, after: { revoked: true } });

    const key = { kind: 'revoke-virtual-key', virtualKeyId: 'trail-key' };
    await gw.admin('POST', '/admin/v1/commands', { scope: { kind: 'everyone' }, action: key });
    expect(await last()).toMatchObject({ before: { revoked: false }, after: { revoked: true } });
    await gw.admin('POST', '/admin/v1/commands', { scope: { kind: 'everyone' }, action: key });
    expect(await last()).toMatchObject({ before: { revoked: true } });

    const item = { kind: 'app', key: 'trail-app', name: 'Trail app', scope: { kind: 'everyone' } };
    await gw.admin('POST', '/admin/v1/inventory/decisions', { ...item, decision: 'denied' });
    expect(await last()).toMatchObject({ action: 'inventory.deny', before: null, after: { decision: 'denied' } });
    await gw.admin('POST', '/admin/v1/inventory/decisions', { ...item, decision: 'approved' });
    expect(await last()).toMatchObject({ action: 'inventory.approve', before: { decision: 'denied' }, after: { decision: 'approved' } });
  });
});
