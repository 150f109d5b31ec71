/** `/admin/v1/commands` and `/admin/v1/settings/retention`. */
import type { Route } from '../http/router.js';
import { ApiHttpError, parseInput } from '../http/errors.js';
import { readJson, sendJson } from '../http/io.js';
import { RETENTION_SETTING, retentionDays } from '../audit/retention.js';
import { commandRequest, retentionSetting } from './schemas.js';
import { trail, type AdminDeps } from './context.js';

export function commandRoutes(deps: AdminDeps): Route[] {
  return [
    {
      method: 'POST',
      path: '/admin/v1/commands',
      handle: async ({ req, res }) => {
        const body = parseInput(commandRequest, await readJson(req), 'the body');
        sendJson(res, 202, await deps.commands.issue(body.scope, body.action));
      },
    },
    {
      method: 'GET',
      path: '/admin/v1/commands/:id',
      handle: async ({ res, params }) => {
        const command = await deps.store.command(params.id ?? '');
        if (command === null) throw new ApiHttpError(404, 'not_found', `there is no command "${params.id ?? ''}"`);
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
      handle: async ({ req, res }) => {
        const body = parseInput(retentionSetting, await readJson(req), 'the body');
        await deps.store.setSetting(RETENTION_SETTING, body.days);
        await trail(deps, 'settings.retention', { days: body.days });
        sendJson(res, 200, body);
      },
    },
  ];
}
