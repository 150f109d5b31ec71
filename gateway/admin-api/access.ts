/**
 * Roles on the admin API, checked before any handler runs (deny unless a rule allows):
 * `admin` may do everything; `auditor` may read (every GET); `team-admin` may use the routes listed
 * here, each of which narrows what it reads or changes to the caller's teams (`teamScope`).
 */
import type { Route } from '../http/router.js';
import { ApiHttpError } from '../http/errors.js';
import { callerRoles, type Caller } from './caller.js';

/** The admin router's locals: who is calling. */
export interface AdminLocals {
  readonly caller: Caller;
}

/** The routes a team-admin may use ("METHOD path"); their handlers scope them to its teams. */
const TEAM_ADMIN_ROUTES: ReadonlySet<string> = new Set([
  'GET /admin/v1/devices',
  'POST /admin/v1/enrollment-tokens',
  'POST /admin/v1/commands',
  'GET /admin/v1/commands/:id',
  'GET /admin/v1/policy',
  'GET /admin/v1/policy/versions',
  'GET /admin/v1/policy/versions/:version',
]);

/** The route guard: throws 403 naming the role the route needs. */
export function authorize(route: Route<AdminLocals>, { caller }: AdminLocals): void {
  const roles = callerRoles(caller);
  if (roles.includes('admin')) return;
  if (route.method === 'GET' && roles.includes('auditor')) return;
  const key = `${route.method} ${route.path}`;
  if (roles.includes('team-admin') && TEAM_ADMIN_ROUTES.has(key)) return;
  const held = roles.length === 0 ? 'no role' : `the role${roles.length > 1 ? 's' : ''} ${roles.join(', ')}`;
  const why = roles.includes('auditor') && route.method !== 'GET' ? 'the auditor role is read-only' : `you hold ${held}`;
  throw new ApiHttpError(403, 'forbidden', `${key} needs the admin role: ${why}`);
}

/** The teams the caller may act on; null means every team (admin). */
export function teamScope(caller: Caller): readonly string[] | null {
  if (callerRoles(caller).includes('admin') || caller.kind === 'admin-token') return null;
  return caller.session.teams;
}

/** Throws 403 unless the caller may act on `team` (null: no team, which only an admin may). */
export function requireTeam(caller: Caller, team: string | null): void {
  const teams = teamScope(caller);
  if (teams === null) return;
  if (team === null || !teams.includes(team)) {
    throw new ApiHttpError(403, 'forbidden', `a team-admin may act only on its teams (${teams.join(', ') || 'none'}), not on ${team === null ? 'devices without a team' : `team "${team}"`}`);
  }
}
