/**
 * Console sessions: a random id in the `outpost_session` cookie, only its SHA-256 in the gateway
 * store (so a copy of the database opens no session), a CSRF token per session, and an absolute
 * lifetime. Sessions live in the store so every replica honours them.
 */
import crypto from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { ConsoleRole, ConsoleSession, SignInMethod } from '../../shared/schema/console.js';
import type { ConsoleSessionRow, GatewayStore } from '../store/store.js';
import { secretHash, tokensEqual } from '../http/bearer.js';
import { SESSION_COOKIE, cookieHeader, readCookie } from './cookies.js';

/** Who a break-glass admin token session is, in the admin audit trail and the console. */
export const ADMIN_TOKEN_NAME = 'admin token';

/** Who a new session is for. */
export interface SessionIdentity {
  readonly user: string;
  readonly roles: readonly ConsoleRole[];
  readonly teams: readonly string[];
  readonly via: SignInMethod;
}

/** How sessions are made. */
export interface SessionSettings {
  /** Absolute lifetime. */
  readonly ttlMs: number;
  /** Whether cookies carry `Secure` (the console is reached over HTTPS). */
  readonly secure: boolean;
}

/** Opens, finds and ends console sessions. */
export class ConsoleSessions {
  constructor(
    private readonly store: GatewayStore,
    readonly settings: SessionSettings,
  ) {}

  /** Stores a new session; answers it and the `Set-Cookie` value that hands it to the browser. */
  async open(identity: SessionIdentity, now = new Date()): Promise<{ session: ConsoleSessionRow; setCookie: string }> {
    const id = crypto.randomBytes(32).toString('base64url');
    const session: ConsoleSessionRow = {
      idSha256: secretHash(id),
      user: identity.user,
      roles: [...identity.roles],
      teams: [...identity.teams],
      csrfToken: crypto.randomBytes(32).toString('base64url'),
      via: identity.via,
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + this.settings.ttlMs).toISOString(),
    };
    await this.store.addSession(session);
    return { session, setCookie: cookieHeader(SESSION_COOKIE, id, { maxAgeSeconds: Math.floor(this.settings.ttlMs / 1000), secure: this.settings.secure, sameSite: 'Strict' }) };
  }

  /** The request's session, or null when it has no cookie or the session is unknown or expired. */
  async fromRequest(req: IncomingMessage, now = new Date()): Promise<ConsoleSessionRow | null> {
    const id = readCookie(req.headers, SESSION_COOKIE);
    return id === null ? null : this.store.session(secretHash(id), now);
  }

  /** Ends the request's session (if any); answers the `Set-Cookie` value that deletes the cookie. */
  async close(req: IncomingMessage): Promise<string> {
    const id = readCookie(req.headers, SESSION_COOKIE);
    if (id !== null) await this.store.deleteSession(secretHash(id));
    return cookieHeader(SESSION_COOKIE, '', { maxAgeSeconds: 0, secure: this.settings.secure, sameSite: 'Strict' });
  }
}

/** True when the request carries the session's CSRF token in `x-csrf-token` (compared in constant time). */
export function csrfMatches(req: IncomingMessage, session: ConsoleSessionRow): boolean {
  const given = req.headers['x-csrf-token'];
  return typeof given === 'string' && tokensEqual(session.csrfToken, given);
}

/** What `GET /console/auth/session` answers. */
export function sessionView(s: ConsoleSessionRow): ConsoleSession {
  return { user: s.user, roles: [...s.roles], teams: [...s.teams], csrfToken: s.csrfToken, via: s.via, expiresAt: s.expiresAt };
}
