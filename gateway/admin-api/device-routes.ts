/** `/admin/v1/enrollment-tokens` and `/admin/v1/devices`. */
import { parseInput } from '../http/errors.js';
import { readJson, sendJson } from '../http/io.js';
import { newSecret, secretHash } from '../http/bearer.js';
import type { DeviceRow } from '../store/store.js';
import { enrollmentTokenRequest } from './schemas.js';
import { requireTeam, teamScope } from './access.js';
import { trail, type AdminDeps, type AdminRoute } from './context.js';

/** A device as the admin sees it: the stored row with the agent's reported status flattened. */
function deviceView(d: DeviceRow): Record<string, unknown> {
  return {
    id: d.id,
    hostname: d.hostname,
    osUser: d.osUser,
    os: d.os,
    arch: d.arch,
    agentVersion: d.agentVersion,
    team: d.team,
    user: d.user,
    enrolledAt: d.enrolledAt,
    lastSeen: d.lastSeen,
    online: d.online,
    policyVersion: d.policyVersion,
    caMode: d.status?.caMode ?? null,
    caTrusted: d.status?.caTrusted ?? null,
    paused: d.status?.paused ?? null,
    degraded: d.status?.degraded ?? [],
    policyRejected: d.status?.policyRejected ?? null,
    revoked: d.revoked,
    auditAckSeq: d.ackSeq,
    chainProblem: d.chainProblem,
  };
}

export function deviceRoutes(deps: AdminDeps): AdminRoute[] {
  return [
    {
      method: 'POST',
      path: '/admin/v1/enrollment-tokens',
      handle: async ({ req, res, locals }) => {
        const body = parseInput(enrollmentTokenRequest, await readJson(req), 'the body');
        requireTeam(locals.caller, body.team);
        const token = newSecret('opt_');
        const now = new Date();
        const expiresAt = new Date(now.getTime() + body.expiresInMinutes * 60_000).toISOString();
        await deps.store.addEnrollmentToken({ tokenSha256: secretHash(token), team: body.team, expiresAt, createdAt: now.toISOString(), user: null, codeChallenge: null });
        await trail(deps, locals.caller, { action: 'enrollment-token.create', detail: { team: body.team, expiresAt } });
        sendJson(res, 201, { token, team: body.team, expiresAt });
      },
    },
    {
      method: 'GET',
      path: '/admin/v1/devices',
      handle: async ({ res, locals }) => {
        const teams = teamScope(locals.caller);
        const devices = (await deps.store.listDevices()).filter((d) => teams === null || (d.team !== null && teams.includes(d.team)));
        sendJson(res, 200, { devices: devices.map(deviceView) });
      },
    },
  ];
}
