/**
 * Fleet budget windows: per-device cumulative spend rows summed into one total per window, with each
 * device's part kept (the agent enforces the fleet total minus its own stored part plus its live
 * ledger). Shared by both stores.
 */
import type { Period } from '../../shared/schema/common.js';
import type { FleetWindow } from './store.js';

/** A budget window's identity. */
export interface WindowKey {
  readonly id: string;
  readonly period: Period;
  readonly windowStart: number;
}

/** Sums per-device rows into fleet windows, keeping only `keys` (or all). */
export function foldWindows(
  rows: ReadonlyArray<{ device_id: string; budget_id: string; period: Period; window_start: number | string; spent_usd: number | string }>,
  keys: readonly WindowKey[] | 'all',
): FleetWindow[] {
  const wanted = keys === 'all' ? null : new Set(keys.map((k) => `${k.id}\u0000${k.period}\u0000${k.windowStart}`));
  const out = new Map<string, { id: string; period: Period; windowStart: number; totalUsd: number; byDevice: Map<string, number> }>();
  for (const r of rows) {
    const windowStart = Number(r.window_start);
    const key = `${r.budget_id}\u0000${r.period}\u0000${windowStart}`;
    if (wanted !== null && !wanted.has(key)) continue;
    let w = out.get(key);
    if (w === undefined) {
      w = { id: r.budget_id, period: r.period, windowStart, totalUsd: 0, byDevice: new Map() };
      out.set(key, w);
    }
    const usd = Number(r.spent_usd);
    w.totalUsd += usd;
    w.byDevice.set(r.device_id, usd);
  }
  return [...out.values()];
}
