/** `/admin/v1/policy`: put a new version, read the current one, list versions, roll back. */
import crypto from 'node:crypto';
import type { PolicyVersion } from '../store/store.js';
import { ApiHttpError, parseInput } from '../http/errors.js';
import { readJson, sendJson } from '../http/io.js';
import { rollbackRequest } from './schemas.js';
import { trail, type AdminDeps, type AdminRoute } from './context.js';

/** A policy version as the admin audit trail keeps it: the version and its content's digest (the document is in the version history). */
function policyState(p: PolicyVersion | null): { version: number; sha256: string } | null {
  return p === null ? null : { version: p.version, sha256: crypto.createHash('sha256').update(JSON.stringify(p.document)).digest('hex') };
}

export function policyRoutes(deps: AdminDeps): AdminRoute[] {
  return [
    {
      method: 'PUT',
      path: '/admin/v1/policy',
      handle: async ({ req, res, locals }) => {
        const before = await deps.store.latestPolicy();
        const p = await deps.publisher.put(await readJson(req));
        await trail(deps, locals.caller, { action: 'policy.put', detail: { version: p.version }, before: policyState(before), after: policyState(p) });
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
      method: 'GET',
      path: '/admin/v1/policy/versions/:version',
      // One version's document (the console's diff against the previous version).
      handle: async ({ res, params }) => {
        const version = Number(params.version);
        const p = Number.isInteger(version) && version > 0 ? await deps.store.policyVersion(version) : null;
        if (p === null) throw new ApiHttpError(404, 'not_found', `there is no policy version "${params.version ?? ''}"`);
        sendJson(res, 200, { version: p.version, document: p.document, signature: p.signature, signedAt: p.signedAt });
      },
    },
    {
      method: 'POST',
      path: '/admin/v1/policy/rollback',
      handle: async ({ req, res, locals }) => {
        const { version } = parseInput(rollbackRequest, await readJson(req), 'the body');
        const before = await deps.store.latestPolicy();
        const p = await deps.publisher.rollback(version);
        await trail(deps, locals.caller, { action: 'policy.rollback', detail: { to: version, version: p.version }, before: policyState(before), after: policyState(p) });
        sendJson(res, 200, { version: p.version, signedAt: p.signedAt });
      },
    },
  ];
}
