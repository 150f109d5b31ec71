/** The admin API's route table (`Authorization: Bearer <admin token>` is checked by the server first). */
import { Router } from '../http/router.js';
import { policyRoutes } from './policy-routes.js';
import { deviceRoutes } from './device-routes.js';
import { auditRoutes } from './audit-routes.js';
import { commandRoutes } from './command-routes.js';
import { inventoryRoutes } from './inventory-routes.js';
import type { AdminDeps } from './context.js';

/** Builds the admin router. */
export function adminRouter(deps: AdminDeps): Router {
  return new Router([...policyRoutes(deps), ...deviceRoutes(deps), ...auditRoutes(deps), ...commandRoutes(deps), ...inventoryRoutes(deps)]);
}
