/**
 * The console's session contract (issue 17): the roles an administrator can hold and what
 * `GET /console/auth/session` answers. The console pages and the gateway both read these schemas.
 */
import { z } from 'zod';

/**
 * What a signed-in person may do: `admin` everything, `auditor` read only, `team-admin` the devices,
 * enrollment tokens and commands of its own teams.
 */
export const consoleRole = z.enum(['admin', 'auditor', 'team-admin']);
export type ConsoleRole = z.infer<typeof consoleRole>;

/** How the session was opened: the break-glass admin token or the identity provider. */
export const signInMethod = z.enum(['admin-token', 'oidc']);
export type SignInMethod = z.infer<typeof signInMethod>;

/** `GET /console/auth/session`: who is signed in and the token every state-changing request carries as `x-csrf-token`. */
export const consoleSession = z.strictObject({
  /** The person (an email from the identity provider), or "admin token" for break-glass. */
  user: z.string().min(1),
  roles: z.array(consoleRole),
  /** The teams a `team-admin` manages (empty otherwise). */
  teams: z.array(z.string().min(1)),
  csrfToken: z.string().min(1),
  via: signInMethod,
  expiresAt: z.iso.datetime(),
});
export type ConsoleSession = z.infer<typeof consoleSession>;

/** `POST /console/auth/token` (JSON, or the sign-in form's `token` field). */
export const tokenSignIn = z.strictObject({ token: z.string().min(1, 'the admin token is empty') });
