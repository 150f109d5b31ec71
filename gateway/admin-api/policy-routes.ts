/** `/admin/v1/policy`: put a new version, read the current one, list versions, roll back. */
import type { Route } from '../http/router.js';
import { ApiHttpError, parseInput } from '../http/errors.js';
import { readJson, sendJson } from '../http/io.js';
import { rollbackRequest } from './schemas.js';
import { trail, type AdminDeps } from './context.js';

export function policyRoutes(deps: AdminDeps): Route[] {
  return [
    {
      method: 'PUT',
      path: '/admin/v1/policy',
      handle: async ({ req, res }) => {
        const p = await deps.publisher.put(await readJson(req));
        await trail(deps, 'policy.put', { version: p.version });
        sendJson(res, 200, { version: p.version, signedAt: p.signedAt });
      },
    },
    {
      method: 'GET',
      path: '/admin/v1/policy',
      handle: async ({ res }) => {
        const p = await deps.store.latestPolicy();
        if (p === null) throw new ApiHttpError(404, 'not_found', 'no policy has been put yet (PUT /admin/v1/policy)');
        sendJson(res, 200, { version: p.version, document: p.document, signature: p.signature, signedAt: p.signedAt });
      },
    },
    {
      method: 'GET',
      path: '/admin/v1/policy/versions',
      handle: async ({ res }) => sendJson(res, 200, { versions: await deps.store.listPolicyVersions() }),
    },
    {
      method: 'POST',
      path: '/admin/v1/policy/rollback',
      handle: async ({ req, res }) => {
        const { version } = parseInput(rollbackRequest, await readJson(req), 'the body');
        const p = await deps.publisher.rollback(version);
        await trail(deps, 'policy.rollback', { to: version, version: p.version });
        sendJson(res, 200, { version: p.version, signedAt: p.signedAt });
      },
    },
  ];
}
