/**
 * `GET /v1/budgets`: for the user at this machine, every budget that applies to their own requests
 * and to each virtual key they may pick, with what is spent and when the window starts again. Read
 * from the governor's live counters (the same ones admission checks), so a bar moves with each request.
 */
import type { Governor } from '../../shared/core/decide.js';
import { ownKeys } from './key-selection.js';
import type { Principal } from '../../shared/core/principals.js';
import type { BudgetsView, BudgetView } from '../../shared/schema/control.js';

function budgetsOf(governor: Governor, principal: Principal, nowMs: number): BudgetView[] {
  return governor.compiled.budgetsFor(principal).map((level) => {
    const u = governor.ledger.usage(level, nowMs);
    return { id: level.id, scope: level.scope, period: level.period, limitUsd: level.limitUsd, spentUsd: u.spentUsd, reservedUsd: u.reservedUsd, resetsAt: new Date(u.resetsAt).toISOString() };
  });
}

/** The budgets view for this machine's user; `selected` is the tray's pick when it still applies. */
export function readBudgets(governor: Governor, nowMs: number, selected: string | null = null): BudgetsView {
  const cp = governor.compiled;
  const user = cp.principals.resolve(null);
  const keys = ownKeys(governor);
  const principals: BudgetsView['principals'] = [{ id: user.id, kind: 'user', budgets: budgetsOf(governor, user, nowMs) }];
  for (const vk of keys) {
    const compiled = cp.keys.byId(vk.id);
    if (compiled === null || vk.revoked) continue;
    const p = cp.principals.resolve(compiled);
    principals.push({ id: p.id, kind: 'virtual-key', budgets: budgetsOf(governor, p, nowMs) });
  }
  return { principals, virtualKeys: keys.map((vk) => ({ id: vk.id, owner: vk.owner, revoked: vk.revoked })), selected };
}
