/** Building the gateway's messages from stored rows (one place for each shape). */
import { periodStart } from '../../shared/core/periods.js';
import { PROTOCOL_V, type BudgetStateMessage, type PolicyMessage } from '../../shared/schema/protocol.js';
import type { BudgetLimits } from '../budgets/budget-limits.js';
import { unallocated } from '../budgets/grants.js';
import type { FleetWindow, PolicyVersion } from '../store/store.js';

/** The `policy` message of a stored version. */
export function policyMessage(p: PolicyVersion): PolicyMessage {
  return { v: PROTOCOL_V, type: 'policy', version: p.version, document: p.document, signature: p.signature, signedAt: p.signedAt };
}

/** `budget.state` for one device: the windows still current at `nowMs`, with its own part and grant. */
export function budgetMessage(windows: readonly FleetWindow[], deviceId: string, nowMs: number, limits: BudgetLimits): BudgetStateMessage {
  return {
    v: PROTOCOL_V,
    type: 'budget.state',
    windows: windows
      .filter((w) => periodStart(w.period, nowMs) === w.windowStart)
      .map((w) => {
        const limitUsd = limits.limitFor(w.id, w.period);
        return {
          id: w.id,
          period: w.period,
          windowStart: w.windowStart,
          limitUsd,
          fleetSpentUsd: w.totalUsd,
          deviceSpentUsd: w.byDevice.get(deviceId) ?? 0,
          grantUsd: limitUsd === null ? null : (w.caps.get(deviceId) ?? 0),
          unallocatedUsd: limitUsd === null ? null : unallocated({ limitUsd, spent: w.byDevice, caps: w.caps }),
        };
      }),
  };
}
