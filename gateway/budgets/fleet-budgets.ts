/**
 * Fleet budgets at the gateway: the limits of the current policy (cached per version, dropped when a
 * policy change arrives), grants on connect for every budget the policy names, top-ups after each
 * usage report, and each device's `budget.state`.
 */
import { periodStart } from '../../shared/core/periods.js';
import type { SpendWindow } from '../../shared/schema/protocol.js';
import type { GatewayStore } from '../store/store.js';
import type { WindowKey } from '../store/fleet-windows.js';
import { BudgetLimits } from './budget-limits.js';
import { nextGrant } from './grants.js';

/** Grants and limits for the hub's sessions. */
export class FleetBudgets {
  private limits: Promise<BudgetLimits> | null = null;

  constructor(private readonly store: GatewayStore) {}

  /** The current policy's limits. */
  current(): Promise<BudgetLimits> {
    this.limits ??= this.store.latestPolicy().then((p) => BudgetLimits.of(p?.document ?? null));
    return this.limits;
  }

  /** A new policy version: limits are read again on next use. */
  invalidate(): void {
    this.limits = null;
  }

  /** Grants `deviceId` a share of every budget the policy names, in its current window. */
  async grantOnConnect(deviceId: string, nowMs: number): Promise<void> {
    const limits = await this.current();
    for (const level of limits.staticLevels()) {
      await this.store.topUpGrant(deviceId, { id: level.id, period: level.period, windowStart: periodStart(level.period, nowMs) }, level.limitUsd, (w) => nextGrant(w, deviceId));
    }
  }

  /** Tops `deviceId` up in each reported current window the policy has a limit for; answers the windows whose grant changed. */
  async topUp(deviceId: string, windows: readonly SpendWindow[], nowMs: number): Promise<WindowKey[]> {
    const limits = await this.current();
    const changed: WindowKey[] = [];
    for (const w of windows) {
      const limit = limits.limitFor(w.id, w.period);
      if (limit === null || w.windowStart !== periodStart(w.period, nowMs)) continue;
      const key = { id: w.id, period: w.period, windowStart: w.windowStart };
      let before = 0;
      const after = await this.store.topUpGrant(deviceId, key, limit, (g) => {
        before = g.caps.get(deviceId) ?? 0;
        return nextGrant(g, deviceId, w.needUsd ?? 0);
      });
      if (after !== before) changed.push(key);
    }
    return changed;
  }
}
