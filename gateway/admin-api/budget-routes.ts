/**
 * `GET /admin/v1/budgets`: each fleet budget of the current policy (a policy budget, a virtual key's
 * own budget) with its limit and what the fleet spent in its current window, as the devices reported
 * it (the same windows the gateway grants from). The console's overview draws it against the limit.
 * The default budget is per principal, so it has no one fleet total and is not listed.
 */
import { periodEnd, periodStart } from '../../shared/core/periods.js';
import { BudgetLimits } from '../budgets/budget-limits.js';
import { sendJson } from '../http/io.js';
import type { AdminDeps, AdminRoute } from './context.js';

export function budgetRoutes(deps: AdminDeps): AdminRoute[] {
  return [
    {
      method: 'GET',
      path: '/admin/v1/budgets',
      handle: async ({ res }) => {
        const now = Date.now();
        const policy = await deps.store.latestPolicy();
        const levels = BudgetLimits.of(policy?.document ?? null).staticLevels();
        const keys = levels.map((l) => ({ id: l.id, period: l.period, windowStart: periodStart(l.period, now) }));
        const windows = keys.length === 0 ? [] : await deps.store.fleetWindows(keys, Math.min(...keys.map((k) => k.windowStart)));
        const budgets = levels.map((l, i) => {
          const key = keys[i]!;
          const spent = windows.find((w) => w.id === key.id && w.period === key.period && w.windowStart === key.windowStart)?.totalUsd ?? 0;
          return { id: l.id, period: l.period, limitUsd: l.limitUsd, spentUsd: spent, windowStart: new Date(key.windowStart).toISOString(), windowEnd: new Date(periodEnd(l.period, now)).toISOString() };
        });
        sendJson(res, 200, { policyVersion: policy?.version ?? null, budgets });
      },
    },
  ];
}
