/**
 * Single sign-on for the console: `/console/auth/oidc/start` sends the browser to the identity
 * provider with the login state sealed in a short-lived cookie; `/console/auth/oidc/callback` checks
 * it, exchanges the code, maps groups to roles and teams, and opens a console session. Every
 * sign-in, and every refusal of a person the provider vouched for, is in the admin audit trail.
 */
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Route } from '../../http/router.js';
import type { GatewayStore } from '../../store/store.js';
import type { OidcConfig } from '../../../shared/schema/gateway-config.js';
import { cookieHeader, readCookie } from '../cookies.js';
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

/** What the login-state cookie holds. */
export const loginState = z.strictObject({
  state: z.string().min(1),
  nonce: z.string().min(1),
  verifier: z.string().min(1),
  redirectUri: z.string().url(),
});

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

export function oidcRoutes(deps: OidcRouteDeps): Route[] {
  return [
    {
      method: 'GET',
      path: `${OIDC_PATH}/start`,
      handle: async ({ res }) => {
        let started: Awaited<ReturnType<OidcRelyingParty['start']>>;
        try {
          started = await deps.rp.start(`${deps.baseUrl()}${OIDC_CALLBACK_PATH}`);
        } catch (err) {
          deps.logger.error({ err: (err as Error).message }, 'console single sign-on could not start');
          return redirect(res, `${SIGN_IN_PATH}?error=oidc`);
        }
        redirect(res, started.url.href, [stateCookie(deps, deps.sealed.seal(started.pending, Date.now() + LOGIN_STATE_TTL_MS), LOGIN_STATE_TTL_MS / 1000)]);
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
          deps.logger.warn({ err: (err as Error).message }, 'console single sign-on failed');
          return redirect(res, `${SIGN_IN_PATH}?error=oidc`, [clear]);
        }
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
