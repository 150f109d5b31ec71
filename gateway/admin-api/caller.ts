/**
 * Who calls the admin API: a script with the bearer admin token, or a person signed in to the console
 * (the `outpost_session` cookie). A session's state-changing request must also carry its CSRF token:
 * the cookie travels by itself, the header only from the console's own pages.
 */
import type { IncomingMessage } from 'node:http';
import type { ConsoleRole } from '../../shared/schema/console.js';
import type { ConsoleSessionRow } from '../store/store.js';
import { bearerToken, tokensEqual } from '../http/bearer.js';
import { ApiHttpError } from '../http/errors.js';
import { ADMIN_TOKEN_NAME, csrfMatches, type ConsoleSessions } from '../console-auth/sessions.js';

/** The admin API's caller. */
export type Caller = { readonly kind: 'admin-token' } | { readonly kind: 'session'; readonly session: ConsoleSessionRow };

/** The caller's name for the admin audit trail: the signed-in user, or "admin token". */
export function callerName(c: Caller): string {
  return c.kind === 'admin-token' ? ADMIN_TOKEN_NAME : c.session.user;
}

/** The caller's roles (the bearer admin token is an admin). */
export function callerRoles(c: Caller): readonly ConsoleRole[] {
  return c.kind === 'admin-token' ? ['admin'] : c.session.roles;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** True for methods that change nothing (no CSRF token needed). */
export function isSafeMethod(method: string | undefined): boolean {
  return SAFE_METHODS.has(method ?? 'GET');
}

/**
 * Finds the caller or throws: 401 without a valid bearer token or session, 403 when a session's
 * state-changing request lacks its CSRF token. A bearer header, when present, decides alone.
 */
export async function authenticate(req: IncomingMessage, adminToken: string, sessions: ConsoleSessions): Promise<Caller> {
  const token = bearerToken(req.headers);
  if (token !== null) {
    if (!tokensEqual(adminToken, token)) throw new ApiHttpError(401, 'unauthenticated', 'the admin token is not valid');
    return { kind: 'admin-token' };
  }
  const session = await sessions.fromRequest(req);
  if (session === null) throw new ApiHttpError(401, 'unauthenticated', 'the admin API needs "Authorization: Bearer <admin token>" or a console session (sign in at /console/sign-in)');
  if (!isSafeMethod(req.method) && !csrfMatches(req, session)) {
    throw new ApiHttpError(403, 'csrf_failed', 'a state-changing request with a session cookie must carry the session\'s "x-csrf-token" header (GET /console/auth/session)');
  }
  return { kind: 'session', session };
}
