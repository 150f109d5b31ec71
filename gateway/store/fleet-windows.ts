/**
 * Fleet budget windows: per-device cumulative spend rows summed into one total per window, with each
 * device's part kept (the agent enforces the fleet total minus its own stored part plus its live
 * ledger). Shared by both stores.
 */
import type { Period } from '../../shared/schema/common.js';

/** A window's grants and spend as the store holds them. */
export interface GrantWindow {
  readonly limitUsd: number;
  /** Each device's reported cumulative spend. */
  readonly spent: ReadonlyMap<string, number>;
  /** Each device's current grant. */
  readonly caps: ReadonlyMap<string, number>;
}

/** A window's spend across the fleet, with each device's part. */
export interface FleetWindow {
  readonly id: string;
  readonly period: Period;
  readonly windowStart: number;
  readonly totalUsd: number;
  readonly byDevice: ReadonlyMap<string, number>;
  /** Each device's grant (its cap on its own spend in the window). */
  readonly caps: ReadonlyMap<string, number>;
}

/** A budget window's identity. */
export interface WindowKey {
  readonly id: string;
  readonly period: Period;
  readonly windowStart: number;
}

/** A usage row (`cap_usd` null) or a grant row (`spent_usd` null), as `FLEET_ROWS_SQL` reads them. */
export interface FleetSqlRow {
  device_id: string;
  budget_id: string;
  period: Period;
  window_start: number | string;
  spent_usd: number | string | null;
  cap_usd: number | string | null;
}

/** Usage and grant rows of the windows starting at or after the one parameter (either store's placeholder). */
export function fleetRowsSql(ph: string): string {
  return `SELECT device_id, budget_id, period, window_start, spent_usd, NULL AS cap_usd FROM usage WHERE window_start >= ${ph}
          UNION ALL
          SELECT device_id, budget_id, period, window_start, NULL AS spent_usd, cap_usd FROM budget_grants WHERE window_start >= ${ph}`;
}

/** Sums per-device rows into fleet windows, keeping only `keys` (or all). */
export function foldWindows(rows: readonly FleetSqlRow[], keys: readonly WindowKey[] | 'all'): FleetWindow[] {
  const wanted = keys === 'all' ? null : new Set(keys.map((k) => `${k.id}\u0000${k.period}\u0000${k.windowStart}`));
  const out = new Map<string, { id: string; period: Period; windowStart: number; totalUsd: number; byDevice: Map<string, number>; caps: Map<string, number> }>();
  for (const r of rows) {
    const windowStart = Number(r.window_start);
    const key = `${r.budget_id}\u0000${r.period}\u0000${windowStart}`;
    if (wanted !== null && !wanted.has(key)) continue;
    let w = out.get(key);
    if (w === undefined) {
      w = { id: r.budget_id, period: r.period, windowStart, totalUsd: 0, byDevice: new Map(), caps: new Map() };
      out.set(key, w);
    }
    if (r.cap_usd !== null) {
      w.caps.set(r.device_id, Number(r.cap_usd));
    } else {
      const usd = Number(r.spent_usd ?? 0);
      w.totalUsd += usd;
      w.byDevice.set(r.device_id, usd);
    }
  }
  return [...out.values()];
}

/** The window `key` of `rows` as the grant policy reads it. */
export function grantWindow(rows: readonly FleetSqlRow[], key: WindowKey, limitUsd: number): GrantWindow {
  const [w] = foldWindows(rows, [key]);
  return { limitUsd, spent: w?.byDevice ?? new Map(), caps: w?.caps ?? new Map() };
}
