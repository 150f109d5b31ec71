/**
 * The console's sign-in routes: the sign-in page, break-glass sign-in with the admin token, the
 * current session (what the console pages read first) and sign-out. Every sign-in and sign-out is
 * written to the admin audit trail.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Route } from '../http/router.js';
import type { GatewayStore } from '../store/store.js';
import { ApiHttpError, parseInput } from '../http/errors.js';
import { readText, sendJson } from '../http/io.js';
import { tokensEqual } from '../http/bearer.js';
import { tokenSignIn } from '../../shared/schema/console.js';
import { ADMIN_TOKEN_NAME, csrfMatches, sessionView, type ConsoleSessions } from './sessions.js';
import { fromSameOrigin } from './same-origin.js';
import { sendSignInPage, sendSignInStyles } from './sign-in-page.js';

/** Where a browser lands after signing in. */
export const CONSOLE_HOME = '/console/';
/** The sign-in page. */
export const SIGN_IN_PATH = '/console/sign-in';

/** What the console auth routes need. */
export interface ConsoleAuthDeps {
  readonly store: GatewayStore;
  readonly sessions: ConsoleSessions;
  readonly adminToken: string;
  readonly logger: Logger;
  /** Whether single sign-on is configured (the page shows its link). */
  readonly oidc: boolean;
}

/** A 303 to `location`, with cookies to set. */
export function redirect(res: ServerResponse, location: string, cookies: readonly string[] = []): void {
  res.writeHead(303, { location, 'cache-control': 'no-store', ...(cookies.length === 0 ? {} : { 'set-cookie': [...cookies] }) });
  res.end();
}

/** True when the request is the sign-in form (a browser) rather than JSON (a script). */
function isForm(req: IncomingMessage): boolean {
  return (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
}

/** The body of `POST /console/auth/token`, form or JSON. */
async function readTokenBody(req: IncomingMessage): Promise<{ token: string }> {
  const text = await readText(req, 16 * 1024);
  let input: unknown;
  if (isForm(req)) input = Object.fromEntries(new URLSearchParams(text));
  else {
    try {
      input = JSON.parse(text) as unknown;
    } catch (err) {
      throw new ApiHttpError(400, 'invalid_json', `the request body is not JSON: ${(err as Error).message}`);
    }
  }
  return parseInput(tokenSignIn, input, 'the body');
}

export function consoleAuthRoutes(deps: ConsoleAuthDeps): Route[] {
  return [
    {
      method: 'GET',
      path: SIGN_IN_PATH,
      handle: async ({ res, query }) => sendSignInPage(res, { oidc: deps.oidc, error: query.get('error') }),
    },
    {
      method: 'GET',
      path: '/console/auth/sign-in.css',
      handle: async ({ res }) => sendSignInStyles(res),
    },
    {
      method: 'POST',
      path: '/console/auth/token',
      handle: async ({ req, res }) => {
        const form = isForm(req);
        if (!fromSameOrigin(req)) {
          if (form) return redirect(res, `${SIGN_IN_PATH}?error=cross-site`);
          throw new ApiHttpError(403, 'cross_site_request', 'sign-in requests from another site are refused');
        }
        const { token } = await readTokenBody(req);
        if (!tokensEqual(deps.adminToken, token)) {
          deps.logger.warn({ remote: req.socket.remoteAddress }, 'console break-glass sign-in with a wrong admin token');
          await deps.store.addAdminEvent({ time: new Date().toISOString(), who: 'unknown', action: 'console.sign-in-refused', detail: { via: 'admin-token' }, before: null, after: null });
          if (form) return redirect(res, `${SIGN_IN_PATH}?error=token`);
          throw new ApiHttpError(401, 'invalid_token', 'that admin token is not valid');
        }
        const { session, setCookie } = await deps.sessions.open({ user: ADMIN_TOKEN_NAME, roles: ['admin'], teams: [], via: 'admin-token' });
        deps.logger.warn({ remote: req.socket.remoteAddress }, 'console break-glass sign-in with the admin token');
        await deps.store.addAdminEvent({ time: session.createdAt, who: ADMIN_TOKEN_NAME, action: 'console.sign-in', detail: { via: 'admin-token' }, before: null, after: { roles: session.roles, expiresAt: session.expiresAt } });
        if (form) return redirect(res, CONSOLE_HOME, [setCookie]);
        res.setHeader('set-cookie', setCookie);
        sendJson(res, 200, sessionView(session));
      },
    },
    {
      method: 'GET',
      path: '/console/auth/session',
      handle: async ({ req, res }) => {
        const session = await deps.sessions.fromRequest(req);
        if (session === null) throw new ApiHttpError(401, 'unauthenticated', `not signed in (or the session ended): sign in at ${SIGN_IN_PATH}`);
        sendJson(res, 200, sessionView(session));
      },
    },
    {
      method: 'POST',
      path: '/console/auth/sign-out',
      handle: async ({ req, res }) => {
        const session = await deps.sessions.fromRequest(req);
        if (session !== null) {
          if (!csrfMatches(req, session)) throw new ApiHttpError(403, 'csrf_failed', 'sign-out needs the session\'s "x-csrf-token" header');
          await deps.store.addAdminEvent({ time: new Date().toISOString(), who: session.user, action: 'console.sign-out', detail: { via: session.via }, before: null, after: null });
        }
        res.setHeader('set-cookie', await deps.sessions.close(req));
        sendJson(res, 200, { signedOut: session !== null });
      },
    },
  ];
}
