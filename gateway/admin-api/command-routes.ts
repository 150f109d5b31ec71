/** `/admin/v1/commands` and `/admin/v1/settings/retention`. */
import { ApiHttpError, parseInput } from '../http/errors.js';
import { readJson, sendJson } from '../http/io.js';
import { RETENTION_SETTING, retentionDays } from '../audit/retention.js';
import { commandRequest, retentionSetting } from './schemas.js';
import type { CommandScope } from '../../shared/schema/protocol.js';
import { callerName, type Caller } from './caller.js';
import { requireTeam, teamScope } from './access.js';
import { trail, type AdminDeps, type AdminRoute } from './context.js';

/** A team-admin's command must target one of its teams or a device in one. */
async function requireCommandScope(deps: AdminDeps, caller: Caller, scope: CommandScope): Promise<void> {
  if (teamScope(caller) === null) return;
  if (scope.kind === 'everyone') return requireTeam(caller, null);
  if (scope.kind === 'team') return requireTeam(caller, scope.team);
  requireTeam(caller, (await deps.store.device(scope.deviceId))?.team ?? null);
}

export function commandRoutes(deps: AdminDeps): AdminRoute[] {
  return [
    {
      method: 'POST',
      path: '/admin/v1/commands',
      handle: async ({ req, res, locals }) => {
        const body = parseInput(commandRequest, await readJson(req), 'the body');
        await requireCommandScope(deps, locals.caller, body.scope);
        sendJson(res, 202, await deps.commands.issue(body.scope, body.action, callerName(locals.caller)));
      },
    },
    {
      method: 'GET',
      path: '/admin/v1/commands/:id',
      handle: async ({ res, params, locals }) => {
        const command = await deps.store.command(params.id ?? '');
        if (command === null) throw new ApiHttpError(404, 'not_found', `there is no command "${params.id ?? ''}"`);
        await requireCommandScope(deps, locals.caller, command.scope);
        sendJson(res, 200, { ...command, results: await deps.store.commandResults(command.id) });
      },
    },
    {
      method: 'GET',
      path: '/admin/v1/settings/retention',
      handle: async ({ res }) => sendJson(res, 200, { days: await retentionDays(deps.store) }),
    },
    {
      method: 'PUT',
      path: '/admin/v1/settings/retention',
      handle: async ({ req, res, locals }) => {
        const body = parseInput(retentionSetting, await readJson(req), 'the body');
        const before = await retentionDays(deps.store);
        await deps.store.setSetting(RETENTION_SETTING, body.days);
        await trail(deps, locals.caller, { action: 'settings.retention', detail: { days: body.days }, before: { days: before }, after: { days: body.days } });
        sendJson(res, 200, body);
      },
    },
  ];
}
