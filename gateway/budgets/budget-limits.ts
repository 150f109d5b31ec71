/**
 * Which fleet budgets the gateway's current policy has, and their limits: the same level ids the
 * agent's core charges (shared/core/compile-policy.ts): a policy budget's `id`, `vk:ID` for a virtual
 * key's own budget, `default:PRINCIPAL` for the default budget.
 */
import { policy as policySchema, type Policy } from '../../shared/schema/policy.js';
import type { Period } from '../../shared/schema/common.js';

/** A budget of the policy that is known before anyone spends (the default budget is per principal). */
export interface StaticLevel {
  readonly id: string;
  readonly period: Period;
  readonly limitUsd: number;
}

/** The budget limits of one policy version. */
export class BudgetLimits {
  private constructor(private readonly policy: Policy | null) {}

  /** Limits of a stored (already validated) policy document; none without a policy. */
  static of(document: unknown): BudgetLimits {
    const parsed = document === null ? null : policySchema.safeParse(document);
    return new BudgetLimits(parsed?.success ? parsed.data : null);
  }

  /** The limit of level `id` with `period`, or null when this policy has no such budget. */
  limitFor(id: string, period: Period): number | null {
    const p = this.policy;
    if (p === null) return null;
    let budget: { limitUsd: number; period: Period } | undefined;
    if (id.startsWith('vk:')) budget = p.virtualKeys.find((vk) => vk.id === id.slice(3))?.budget;
    else if (id.startsWith('default:')) budget = p.defaults.budget;
    else budget = p.budgets.find((b) => b.id === id);
    return budget !== undefined && budget.period === period ? budget.limitUsd : null;
  }

  /** Budgets every device may charge, granted on connect so a first request needs no round trip. */
  staticLevels(): StaticLevel[] {
    const p = this.policy;
    if (p === null) return [];
    return [
      ...p.virtualKeys.flatMap((vk) => (vk.budget === undefined ? [] : [{ id: `vk:${vk.id}`, period: vk.budget.period, limitUsd: vk.budget.limitUsd }])),
      ...p.budgets.map((b) => ({ id: b.id, period: b.period, limitUsd: b.limitUsd })),
    ];
  }
}
