/**
 * Single sign-on to the console (issue 17.2 and 17.4) against a real OpenID provider
 * (`oidc-provider` on loopback, test users and groups): authorization code + PKCE through the real
 * gateway, followed by a real HTTP client that keeps cookies and follows redirects.
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import { enrollResponse } from '../../../shared/schema/protocol.js';
import { consoleSession } from '../../../shared/schema/console.js';
import { exampleFile } from '../../support/repo.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { signInOverHttp, startTestIdp, type TestIdp } from '../../support/oidc-provider.js';

const USERS = {
  ada: { password: 'ada-pass', email: 'ada@example.com', groups: ['outpost-admins', 'staff'] },
  audrey: { password: 'audrey-pass', email: 'audrey@example.com', groups: ['security-auditors'] },
  tess: { password: 'tess-pass', email: 'tess@example.com', groups: ['red-leads'] },
  nobody: { password: 'nobody-pass', email: 'nobody@example.com', groups: ['staff'] },
};

let idp: TestIdp;
let gw: TestGateway;
let examplePolicy: unknown;

beforeAll(async () => {
  idp = await startTestIdp(USERS);
  process.env.OUTPOST_TEST_OIDC_SECRET = idp.clientSecret;
  gw = await startTestGateway({
    console: {
      sessionHours: 8,
      oidc: {
        issuer: idp.issuer,
        clientId: idp.clientId,
        clientSecret: { env: 'OUTPOST_TEST_OIDC_SECRET' },
        scopes: ['email', 'profile', 'groups'],
        userClaim: 'email',
        groupsClaim: 'groups',
        roles: { 'outpost-admins': ['admin'], 'security-auditors': ['auditor'], 'red-leads': ['team-admin'] },
        teams: { 'red-leads': ['red'] },
      },
    },
  });
  idp.register([`${gw.url}/console/auth/oidc/callback`]);
  examplePolicy = JSON.parse(await fs.readFile(exampleFile('policy.json'), 'utf8'));
});
afterAll(async () => {
  await gw.close();
  await idp.close();
  delete process.env.OUTPOST_TEST_OIDC_SECRET;
});

/** Signs `login` in and answers the gateway session cookie and the session. */
async function signIn(login: keyof typeof USERS): Promise<{ cookie: string; session: ReturnType<typeof consoleSession.parse> }> {
  const walk = await signInOverHttp(`${gw.url}/console/auth/oidc/start`, login, USERS[login].password);
  expect(walk.url.href).toBe(`${gw.url}/console/auth/oidc/callback${walk.url.search}`);
  expect(walk.status).toBe(200);
  expect(walk.body).toContain('url=/console/');
  const id = walk.jar.get(new URL(gw.url).host, 'outpost_session');
  expect(id).toBeDefined();
  const cookie = `outpost_session=${id!}`;
  const session = consoleSession.parse(await (await fetch(`${gw.url}/console/auth/session`, { headers: { cookie } })).json());
  return { cookie, session };
}

describe('console single sign-on', () => {
  it('shows the single sign-on link on the sign-in page', async () => {
    const html = await (await fetch(`${gw.url}/console/sign-in`)).text();
    expect(html).toContain('href="/console/auth/oidc/start"');
    expect(html).toContain('Admin token');
  });

  it('sends the browser to the provider with PKCE (S256), state and nonce, the login state in a sealed Lax cookie', async () => {
    const res = await fetch(`${gw.url}/console/auth/oidc/start`, { redirect: 'manual' });
    expect(res.status).toBe(303);
    const to = new URL(res.headers.get('location')!);
    expect(to.origin).toBe(idp.issuer);
    expect(to.searchParams.get('code_challenge_method')).toBe('S256');
    expect(to.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(to.searchParams.get('state')).toBeTruthy();
    expect(to.searchParams.get('nonce')).toBeTruthy();
    expect(to.searchParams.get('redirect_uri')).toBe(`${gw.url}/console/auth/oidc/callback`);
    const set = res.headers.get('set-cookie')!;
    expect(set).toMatch(/^outpost_oidc=/);
    expect(set).toContain('SameSite=Lax');
    expect(set).toContain('Path=/console/auth/oidc');
    expect(set).toContain('HttpOnly');
    // Sealed: the verifier is not readable in the cookie.
    expect(Buffer.from(set.split(';')[0]!.split('=')[1]!, 'base64url').toString('latin1')).not.toContain(to.searchParams.get('state')!);
  });

  it('signs an admin in through the provider: roles from groups, audited with who', async () => {
    const { cookie, session } = await signIn('ada');
    expect(session).toMatchObject({ user: 'ada@example.com', roles: ['admin'], teams: [], via: 'oidc' });
    const put = await fetch(`${gw.url}/admin/v1/policy`, { method: 'PUT', headers: { cookie, 'x-csrf-token': session.csrfToken, 'content-type': 'application/json' }, body: JSON.stringify(examplePolicy) });
    expect(put.status).toBe(200);
    const trail = (await gw.admin('GET', '/admin/v1/admin-audit?limit=5')).body.events as Array<{ who: string; action: string; detail: Record<string, unknown> }>;
    expect(trail[0]).toMatchObject({ who: 'ada@example.com', action: 'policy.put' });
    expect(trail[1]).toMatchObject({ who: 'ada@example.com', action: 'console.sign-in', detail: { via: 'oidc', groups: ['outpost-admins', 'staff'] } });
  });

  it('signs an auditor in whose publish the API refuses with 403', async () => {
    const { cookie, session } = await signIn('audrey');
    expect(session.roles).toEqual(['auditor']);
    expect((await fetch(`${gw.url}/admin/v1/audit`, { headers: { cookie } })).status).toBe(200);
    const put = await fetch(`${gw.url}/admin/v1/policy`, { method: 'PUT', headers: { cookie, 'x-csrf-token': session.csrfToken, 'content-type': 'application/json' }, body: JSON.stringify(examplePolicy) });
    expect(put.status).toBe(403);
    expect(((await put.json()) as { error: { message: string } }).error.message).toContain('read-only');
  });

  it('maps a team lead to team-admin of its teams', async () => {
    const { session } = await signIn('tess');
    expect(session).toMatchObject({ roles: ['team-admin'], teams: ['red'] });
  });

  it('refuses a person none of whose groups gives a role, and audits it', async () => {
    const walk = await signInOverHttp(`${gw.url}/console/auth/oidc/start`, 'nobody', USERS.nobody.password, `${gw.url}/console/sign-in`);
    expect(walk.url.href).toBe(`${gw.url}/console/sign-in?error=no-role`);
    expect(walk.jar.get(new URL(gw.url).host, 'outpost_session')).toBeUndefined();
    const trail = (await gw.admin('GET', '/admin/v1/admin-audit?limit=1')).body.events;
    expect(trail[0]).toMatchObject({ who: 'nobody@example.com', action: 'console.sign-in-refused', detail: { reason: 'no role' } });
  });

  it('refuses a callback without its login state (another browser, a replay) or with an altered one', async () => {
    const start = await fetch(`${gw.url}/console/auth/oidc/start`, { redirect: 'manual' });
    const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
    const bare = await fetch(`${gw.url}/console/auth/oidc/callback?code=abc&state=${state}`, { redirect: 'manual' });
    expect(bare.headers.get('location')).toBe('/console/sign-in?error=oidc');
    const sealed = start.headers.get('set-cookie')!.split(';')[0]!.split('=')[1]!;
    const altered = `${sealed.slice(0, -2)}${sealed.endsWith('A') ? 'B' : 'A'}A`;
    const bad = await fetch(`${gw.url}/console/auth/oidc/callback?code=abc&state=${state}`, { redirect: 'manual', headers: { cookie: `outpost_oidc=${altered}` } });
    expect(bad.headers.get('location')).toBe('/console/sign-in?error=oidc');
    // The right cookie but a code the provider never issued: the exchange fails, no session.
    const forged = await fetch(`${gw.url}/console/auth/oidc/callback?code=forged&state=${state}`, { redirect: 'manual', headers: { cookie: `outpost_oidc=${sealed}` } });
    expect(forged.headers.get('location')).toBe('/console/sign-in?error=oidc');
    expect(forged.headers.getSetCookie().some((c) => c.startsWith('outpost_session='))).toBe(false);
  });

  it('does not sign in with a wrong password at the provider', async () => {
    const before = idp.refusedLogins();
    const walk = await signInOverHttp(`${gw.url}/console/auth/oidc/start`, 'ada', 'wrong-password');
    expect(idp.refusedLogins()).toBe(before + 1);
    expect(walk.body).toContain('Wrong user name or password.');
    expect(walk.jar.get(new URL(gw.url).host, 'outpost_session')).toBeUndefined();
  });
});

describe('device single sign-on, gateway side', () => {
  const AGENT = 'http://127.0.0.1:9/callback';

  /** Runs the browser part of `outpost enroll --sso` for `login`; answers where the gateway sent the browser back. */
  async function ssoCode(login: keyof typeof USERS, challenge: string, state = crypto.randomBytes(16).toString('base64url')): Promise<URL> {
    const start = `${gw.url}/v1/agents/enroll/sso?${new URLSearchParams({ redirect_uri: AGENT, state, code_challenge: challenge, code_challenge_method: 'S256' })}`;
    const walk = await signInOverHttp(start, login, USERS[login].password, AGENT);
    expect(walk.url.searchParams.get('state')).toBe(state);
    return walk.url;
  }

  function pkce(): { verifier: string; challenge: string } {
    const verifier = crypto.randomBytes(32).toString('base64url');
    return { verifier, challenge: crypto.createHash('sha256').update(verifier).digest('base64url') };
  }

  function enroll(token: string, codeVerifier?: string): Promise<Response> {
    return fetch(`${gw.url}/v1/agents/enroll`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, device: { hostname: 'ada-laptop', osUser: 'ada', os: 'linux 6.8', arch: 'x64', agentVersion: '0.1.0' }, ...(codeVerifier === undefined ? {} : { codeVerifier }) }),
    });
  }

  it('hands the agent a one-time code bound to the person; the device is enrolled as that user', async () => {
    const { verifier, challenge } = pkce();
    const back = await ssoCode('ada', challenge);
    const code = back.searchParams.get('code')!;
    expect(code).toMatch(/^opt_/);
    const res = await enroll(code, verifier);
    expect(res.status).toBe(201);
    const enrolled = enrollResponse.parse(await res.json());
    expect(enrolled.user).toBe('ada@example.com');
    const device = (await gw.admin('GET', '/admin/v1/devices')).body.devices.find((d: { id: string }) => d.id === enrolled.deviceId);
    expect(device).toMatchObject({ user: 'ada@example.com', hostname: 'ada-laptop' });
    const trail = (await gw.admin('GET', '/admin/v1/admin-audit?limit=2')).body.events;
    expect(trail[0]).toMatchObject({ who: 'ada@example.com', action: 'device.enrolled', detail: { via: 'sso' } });
    expect(trail[1]).toMatchObject({ who: 'ada@example.com', action: 'enrollment-token.create', detail: { via: 'sso' } });
    expect((await enroll(code, verifier)).status).toBe(401);
  });

  it('refuses the code to anyone without the verifier (another app on the laptop that saw the redirect)', async () => {
    const { challenge } = pkce();
    const code = (await ssoCode('ada', challenge)).searchParams.get('code')!;
    expect((await enroll(code)).status).toBe(401);
    const other = pkce();
    const code2 = (await ssoCode('ada', challenge)).searchParams.get('code')!;
    const wrong = await enroll(code2, other.verifier);
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: { message: string } }).error.message).toContain('verifier');
  });

  it('sends the browser only back to a loopback address', async () => {
    const { challenge } = pkce();
    for (const redirect of ['http://evil.example/callback', 'https://127.0.0.1:9/callback', 'http://127.0.0.1:9/cb?x=1', 'http://localhost.evil.example:9/']) {
      const res = await fetch(`${gw.url}/v1/agents/enroll/sso?${new URLSearchParams({ redirect_uri: redirect, state: 'state-0123456789abcdef', code_challenge: challenge })}`, { redirect: 'manual' });
      expect(res.status, redirect).toBe(400);
    }
  });

  it('tells the agent when the sign-in fails, instead of leaving it waiting', async () => {
    const { challenge } = pkce();
    const start = await fetch(`${gw.url}/v1/agents/enroll/sso?${new URLSearchParams({ redirect_uri: AGENT, state: 'state-0123456789abcdef', code_challenge: challenge })}`, { redirect: 'manual' });
    const sealed = start.headers.get('set-cookie')!.split(';')[0]!;
    const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
    const forged = await fetch(`${gw.url}/console/auth/oidc/callback?code=forged&state=${state}`, { redirect: 'manual', headers: { cookie: sealed } });
    const to = new URL(forged.headers.get('location')!);
    expect(`${to.origin}${to.pathname}`).toBe(AGENT);
    expect(to.searchParams.get('error')).toBe('access_denied');
    expect(to.searchParams.get('state')).toBe('state-0123456789abcdef');
  });

  it('says so on a gateway without single sign-on', async () => {
    const plain = await startTestGateway();
    try {
      const res = await fetch(`${plain.url}/v1/agents/enroll/sso?redirect_uri=${encodeURIComponent(AGENT)}`);
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('oidc_not_configured');
    } finally {
      await plain.close();
    }
  });
});
