/**
 * The admin API's route table. The server finds the caller first (`caller.ts`: bearer admin token or
 * console session); the router's guard checks the caller's roles before any handler (`access.ts`).
 */
import { Router } from '../http/router.js';
import { authorize, type AdminLocals } from './access.js';
import { policyRoutes } from './policy-routes.js';
import { deviceRoutes } from './device-routes.js';
import { auditRoutes } from './audit-routes.js';
import { budgetRoutes } from './budget-routes.js';
import { commandRoutes } from './command-routes.js';
import { inventoryRoutes } from './inventory-routes.js';
import type { AdminDeps } from './context.js';

/** Builds the admin router. */
export function adminRouter(deps: AdminDeps): Router<AdminLocals> {
  return new Router<AdminLocals>([...policyRoutes(deps), ...deviceRoutes(deps), ...auditRoutes(deps), ...budgetRoutes(deps), ...commandRoutes(deps), ...inventoryRoutes(deps)], authorize);
}
