/** The console's calls to the admin API: same origin, the session cookie, and the CSRF token on every change. */
import type { ConsoleSession } from '../shared/schema/console.js';

let csrf = '';

/** An answer the API refused, with its words. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The signed-in session, or null (then the page goes to the sign-in page). */
export async function session(): Promise<ConsoleSession | null> {
  const res = await fetch('/console/auth/session', { credentials: 'same-origin' });
  if (res.status === 401) return null;
  const body = (await res.json()) as ConsoleSession;
  csrf = body.csrfToken;
  return body;
}

/** One admin API call. */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') headers['x-csrf-token'] = csrf;
  const res = await fetch(path, { method, headers, credentials: 'same-origin', ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  if (res.status === 401) {
    location.assign('/console/sign-in?error=expired');
    throw new ApiError(401, 'Your session ended. Sign in again.');
  }
  const text = await res.text();
  const json = text === '' ? null : (JSON.parse(text) as unknown);
  if (!res.ok) throw new ApiError(res.status, (json as { error?: { message?: string } } | null)?.error?.message ?? `The gateway answered ${res.status}.`);
  return json as T;
}

/** Signs out and goes to the sign-in page. */
export async function signOut(): Promise<void> {
  await fetch('/console/auth/sign-out', { method: 'POST', headers: { 'x-csrf-token': csrf }, credentials: 'same-origin' });
  location.assign('/console/sign-in');
}
