/**
 * Single sign-on: `/console/auth/oidc/start` (the console) and `/v1/agents/enroll/sso` (a device,
 * `outpost enroll --sso`) send the browser to the identity provider with the login state sealed in a
 * short-lived cookie; `/console/auth/oidc/callback` checks it and exchanges the code. For the console
 * it maps groups to roles and teams and opens a session; for a device it hands the agent's loopback
 * address a one-time enrollment code bound to the person. Every sign-in, and every refusal of a
 * person the provider vouched for, is in the admin audit trail.
 */
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Route } from '../../http/router.js';
import type { GatewayStore } from '../../store/store.js';
import type { OidcConfig } from '../../../shared/schema/gateway-config.js';
import { cookieHeader, readCookie } from '../cookies.js';
import { ApiHttpError, parseInput } from '../../http/errors.js';
import { newSecret, secretHash } from '../../http/bearer.js';
import { queryObject } from '../../http/io.js';
import type { ConsoleSessions } from '../sessions.js';
import { CONSOLE_HOME, SIGN_IN_PATH, redirect } from '../routes.js';
import { pageHeaders } from '../sign-in-page.js';
import type { SealedCookie } from './sealed-cookie.js';
import { identityFromClaims, type OidcIdentity } from './identity.js';
import type { OidcRelyingParty } from './oidc-client.js';

/** The login-state cookie, sent only to the OpenID routes. */
export const LOGIN_STATE_COOKIE = 'outpost_oidc';
export const OIDC_PATH = '/console/auth/oidc';
export const OIDC_CALLBACK_PATH = `${OIDC_PATH}/callback`;
/** How long a person may take at the identity provider. */
const LOGIN_STATE_TTL_MS = 10 * 60_000;

/** Where `outpost enroll --sso` waits for the browser (RFC 8252: http on a loopback address, any port). */
const agentCallback = z
  .string()
  .url()
  .refine((u) => {
    const url = new URL(u);
    return url.protocol === 'http:' && ['127.0.0.1', '[::1]'].includes(url.hostname) && url.username === '' && url.search === '' && url.hash === '';
  }, 'must be http://127.0.0.1:PORT/… or http://[::1]:PORT/… (the enrolling agent on this machine), without a query');

/** `GET /v1/agents/enroll/sso`: what the enrolling agent sends (OAuth's names, as a native app would). */
export const ssoEnrollQuery = z.strictObject({
  redirect_uri: agentCallback,
  state: z.string().regex(/^[A-Za-z0-9_-]{16,128}$/, '16 to 128 base64url characters'),
  code_challenge: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'the base64url S256 challenge of a PKCE verifier'),
  code_challenge_method: z.literal('S256').default('S256'),
});

/** What the login-state cookie holds. */
export const loginState = z.strictObject({
  state: z.string().min(1),
  nonce: z.string().min(1),
  verifier: z.string().min(1),
  redirectUri: z.string().url(),
  /** Set when the sign-in enrolls a device rather than opening a console session. */
  agent: z.strictObject({ callback: agentCallback, state: z.string(), codeChallenge: z.string() }).nullable(),
});
type LoginState = z.infer<typeof loginState>;

/** The route that starts a device's single sign-on enrollment. */
export const SSO_ENROLL_PATH = '/v1/agents/enroll/sso';
/** How long the enrollment code handed to the agent stays usable. */
const SSO_ENROLLMENT_TTL_MS = 5 * 60_000;

/** What the OpenID routes need. */
export interface OidcRouteDeps {
  readonly config: OidcConfig;
  readonly rp: OidcRelyingParty;
  readonly sessions: ConsoleSessions;
  readonly store: GatewayStore;
  readonly logger: Logger;
  /** Seals the login state (keyed from the admin token, so any replica can open it). */
  readonly sealed: SealedCookie<typeof loginState>;
  /** The gateway's URL as the browser reaches it (`publicUrl`, else where it listens). */
  readonly baseUrl: () => string;
}

/** The login-state cookie: Lax, because the provider's redirect back is a cross-site navigation. */
function stateCookie(deps: OidcRouteDeps, value: string, maxAgeSeconds: number): string {
  return cookieHeader(LOGIN_STATE_COOKIE, value, { maxAgeSeconds, secure: deps.sessions.settings.secure, sameSite: 'Lax', path: OIDC_PATH });
}

/**
 * Lands the browser on the console with a page of its own rather than a redirect: the session cookie
 * is SameSite=Strict, and a redirect chain that began at the provider would not carry it.
 */
function sendLanding(res: ServerResponse, cookies: readonly string[]): void {
  const html = `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${CONSOLE_HOME}"><title>Signed in · Outpost console</title></head><body><p><a href="${CONSOLE_HOME}">Continue to the Outpost console</a></p></body></html>\n`;
  res.writeHead(200, { ...pageHeaders('text/html; charset=utf-8', html), 'set-cookie': [...cookies] });
  res.end(html);
}

/** Sends the browser to the provider with the login state sealed in its cookie; false when the provider cannot be reached. */
async function begin(deps: OidcRouteDeps, res: ServerResponse, agent: LoginState['agent']): Promise<boolean> {
  let started: Awaited<ReturnType<OidcRelyingParty['start']>>;
  try {
    started = await deps.rp.start(`${deps.baseUrl()}${OIDC_CALLBACK_PATH}`);
  } catch (err) {
    deps.logger.error({ err: (err as Error).message }, 'single sign-on could not start');
    return false;
  }
  const state: LoginState = { ...started.pending, agent };
  redirect(res, started.url.href, [stateCookie(deps, deps.sealed.seal(state, Date.now() + LOGIN_STATE_TTL_MS), LOGIN_STATE_TTL_MS / 1000)]);
  return true;
}

/**
 * Ends a device's single sign-on: a one-time enrollment token bound to the person and to the agent's
 * PKCE challenge, handed to the agent's loopback address as `code` (RFC 8252).
 */
async function handToAgent(deps: OidcRouteDeps, res: ServerResponse, agent: NonNullable<LoginState['agent']>, identity: OidcIdentity, clear: string): Promise<void> {
  const token = newSecret('opt_');
  const now = new Date();
  const expiresAt = new Date(now.getTime() + SSO_ENROLLMENT_TTL_MS).toISOString();
  await deps.store.addEnrollmentToken({ tokenSha256: secretHash(token), team: null, expiresAt, createdAt: now.toISOString(), user: identity.user, codeChallenge: agent.codeChallenge });
  await deps.store.addAdminEvent({ time: now.toISOString(), who: identity.user, action: 'enrollment-token.create', detail: { via: 'sso', expiresAt }, before: null, after: { user: identity.user } });
  redirect(res, agentUrl(agent, { code: token }), [clear]);
}

/** The agent's loopback address with `params` and its state. */
function agentUrl(agent: NonNullable<LoginState['agent']>, params: Readonly<Record<string, string>>): string {
  const to = new URL(agent.callback);
  for (const [k, v] of Object.entries(params)) to.searchParams.set(k, v);
  to.searchParams.set('state', agent.state);
  return to.href;
}

/** `/v1/agents/enroll/sso` on a gateway without single sign-on: a clear refusal. */
export function ssoEnrollUnavailableRoute(): Route {
  return {
    method: 'GET',
    path: SSO_ENROLL_PATH,
    handle: async () => {
      throw new ApiHttpError(404, 'oidc_not_configured', 'this gateway has no single sign-on (console.oidc in its config): enroll with a token from your administrator (outpost enroll --token)');
    },
  };
}

export function oidcRoutes(deps: OidcRouteDeps): Route[] {
  return [
    {
      method: 'GET',
      path: `${OIDC_PATH}/start`,
      handle: async ({ res }) => {
        if (!(await begin(deps, res, null))) redirect(res, `${SIGN_IN_PATH}?error=oidc`);
      },
    },
    {
      method: 'GET',
      path: SSO_ENROLL_PATH,
      handle: async ({ res, query }) => {
        const q = parseInput(ssoEnrollQuery, queryObject(query), 'the query');
        if (!(await begin(deps, res, { callback: q.redirect_uri, state: q.state, codeChallenge: q.code_challenge }))) {
          throw new ApiHttpError(503, 'oidc_unavailable', 'the gateway cannot reach its identity provider right now; try again, or ask your administrator for an enrollment token');
        }
      },
    },
    {
      method: 'GET',
      path: OIDC_CALLBACK_PATH,
      handle: async ({ req, res }) => {
        const clear = stateCookie(deps, '', 0);
        const sealed = readCookie(req.headers, LOGIN_STATE_COOKIE);
        const pending = sealed === null ? null : deps.sealed.open(sealed);
        if (pending === null) {
          deps.logger.warn('console single sign-on callback without a valid login state (expired, from another browser, or altered)');
          return redirect(res, `${SIGN_IN_PATH}?error=oidc`, [clear]);
        }
        let identity: OidcIdentity;
        try {
          const callback = new URL(`${pending.redirectUri}${new URL(req.url ?? '/', 'http://gateway').search}`);
          identity = identityFromClaims(await deps.rp.finish(callback, pending), deps.config);
        } catch (err) {
          deps.logger.warn({ err: (err as Error).message, device: pending.agent !== null }, 'single sign-on failed');
          // The enrolling agent is told at once (RFC 6749 error), rather than left waiting.
          if (pending.agent !== null) return redirect(res, agentUrl(pending.agent, { error: 'access_denied' }), [clear]);
          return redirect(res, `${SIGN_IN_PATH}?error=oidc`, [clear]);
        }
        if (pending.agent !== null) return handToAgent(deps, res, pending.agent, identity, clear);
        const now = new Date().toISOString();
        if (identity.roles.length === 0) {
          deps.logger.warn({ user: identity.user }, 'console single sign-on: no group of this person maps to a role');
          await deps.store.addAdminEvent({ time: now, who: identity.user, action: 'console.sign-in-refused', detail: { via: 'oidc', reason: 'no role', groups: identity.groups }, before: null, after: null });
          return redirect(res, `${SIGN_IN_PATH}?error=no-role`, [clear]);
        }
        const { session, setCookie } = await deps.sessions.open({ user: identity.user, roles: identity.roles, teams: identity.teams, via: 'oidc' });
        await deps.store.addAdminEvent({ time: session.createdAt, who: identity.user, action: 'console.sign-in', detail: { via: 'oidc', groups: identity.groups }, before: null, after: { roles: session.roles, teams: session.teams, expiresAt: session.expiresAt } });
        sendLanding(res, [setCookie, clear]);
      },
    },
  ];
}
