/**
 * A policy compiled for the hot path, once per policy version: hashed virtual keys, model matchers,
 * host classifier, custom provider hosts, team index, budget levels per scope, guardrail detectors.
 */
import type { Policy, RateLimit } from '../schema/policy.js';
import type { BudgetLevel } from './budgets.js';
import { compileGuardrails, type CompiledGuardrails } from './guardrails/engine.js';
import { DETECTORS, type DetectorFactories } from './guardrails/registry.js';
import { compileHostClassifier, compileProviderHosts, type HostClass } from './hosts.js';
import type { ProviderLookup } from '../schema/custom-provider.js';
import { compileMcpRules, type McpRules } from './mcp-rules.js';
import { compileModelPatterns, type ModelMatcher } from './model-patterns.js';
import { indexTeams, PrincipalResolver, type Identity, type Principal } from './principals.js';
import { compileVirtualKeys, type VirtualKeyTable } from './virtual-keys.js';

/** Everything the decision needs from one policy version. */
export interface CompiledPolicy {
  readonly policy: Policy;
  readonly classify: (host: string) => HostClass;
  /** The custom provider (policy `providers`) serving a host, for endpoint matching. */
  readonly providerHosts: ProviderLookup;
  readonly keys: VirtualKeyTable;
  readonly principals: PrincipalResolver;
  readonly defaultModels: ModelMatcher | null;
  readonly guardrails: CompiledGuardrails;
  /** Remote MCP servers and their tool rules. */
  readonly mcp: McpRules;
  /** Budget levels that apply to a principal (cached per principal id). */
  budgetsFor(principal: Principal): readonly BudgetLevel[];
  /** The rate limit of a principal: its virtual key's own, else the policy default. */
  rateLimitFor(principal: Principal): RateLimit | null;
}

/** Compiles `policy` for the machine `identity`, its guardrails' detectors from `detectors`. */
export function compilePolicy(policy: Policy, identity: Identity, detectors: DetectorFactories = DETECTORS): CompiledPolicy {
  const byScope = new Map<string, BudgetLevel[]>();
  for (const b of policy.budgets) {
    const list = byScope.get(b.scope) ?? [];
    list.push({ id: b.id, scope: b.scope, limitUsd: b.limitUsd, period: b.period });
    byScope.set(b.scope, list);
  }
  const budgetCache = new Map<string, readonly BudgetLevel[]>();
  const defaultBudget = policy.defaults.budget;
  const defaultRate = policy.defaults.rateLimit ?? null;

  return {
    policy,
    classify: compileHostClassifier(policy.interception),
    providerHosts: compileProviderHosts(policy.providers),
    keys: compileVirtualKeys(policy.virtualKeys),
    principals: new PrincipalResolver(indexTeams(policy.teams), identity),
    defaultModels: policy.defaults.allowedModels ? compileModelPatterns(policy.defaults.allowedModels) : null,
    guardrails: compileGuardrails(policy.guardrails, policy.failMode, detectors),
    mcp: compileMcpRules(policy.mcp),
    budgetsFor(principal) {
      const hit = budgetCache.get(principal.id);
      if (hit !== undefined) return hit;
      const levels: BudgetLevel[] = [];
      for (const scope of principal.scopes) levels.push(...(byScope.get(scope) ?? []));
      const vk = principal.vk;
      if (vk !== null && vk.budget !== null) levels.push({ id: `vk:${vk.id}`, scope: principal.id, limitUsd: vk.budget.limitUsd, period: vk.budget.period });
      // The default budget covers a principal that has none of its own.
      const own = vk !== null ? vk.budget !== null : byScope.has(principal.id);
      if (!own && defaultBudget !== undefined) levels.push({ id: `default:${principal.id}`, scope: principal.id, limitUsd: defaultBudget.limitUsd, period: defaultBudget.period });
      budgetCache.set(principal.id, levels);
      return levels;
    },
    rateLimitFor: (principal) => principal.vk?.rateLimit ?? defaultRate,
  };
}
