/**
 * The console's cookies: reading one by name from a `Cookie` header and writing `Set-Cookie` values
 * with the attributes the console needs (HttpOnly always; Secure whenever the console is reached over
 * HTTPS; SameSite as the caller says).
 */
import type { IncomingHttpHeaders } from 'node:http';

/** The session cookie's name. */
export const SESSION_COOKIE = 'outpost_session';

/** The value of cookie `name` in the request, or null (the first one when a browser sends several). */
export function readCookie(headers: IncomingHttpHeaders, name: string): string | null {
  const header = headers.cookie;
  if (typeof header !== 'string') return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1 || part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    return value === '' ? null : value;
  }
  return null;
}

/** How a cookie is written. */
export interface CookieOptions {
  /** Seconds until it expires; 0 deletes it. */
  readonly maxAgeSeconds: number;
  readonly secure: boolean;
  readonly sameSite: 'Strict' | 'Lax';
  readonly path?: string;
}

/** A `Set-Cookie` value. Cookie values here are base64url, so they need no quoting. */
export function cookieHeader(name: string, value: string, o: CookieOptions): string {
  return [`${name}=${value}`, `Path=${o.path ?? '/'}`, `Max-Age=${o.maxAgeSeconds}`, 'HttpOnly', `SameSite=${o.sameSite}`, ...(o.secure ? ['Secure'] : [])].join('; ');
}
