/**
 * Prices a policy names for its custom providers (`providers[].pricing`, USD per million tokens),
 * put in front of the price database. A custom provider is priced by its policy only: a model it
 * does not list has no known price (the policy's `pricing.unknownModel` decides), never a price the
 * database has for a same-named model elsewhere, which would bill a self-hosted model as a cloud one.
 * Records priced this way carry the policy's name and version as their price version.
 */
import type { ModelPrice } from '../schema/custom-provider.js';
import type { Policy } from '../schema/policy.js';
import { compileModelPatterns, type ModelMatcher } from './model-patterns.js';
import type { PriceTable, TokenRates, TokenUsage } from './pricing.js';

const PER_TOKEN = 1e-6;

/** A provider's price list: the first key matching a model, in document order. */
function compilePrices(pricing: Readonly<Record<string, ModelPrice>>): (model: string) => ModelPrice | null {
  const entries: Array<readonly [ModelMatcher, ModelPrice]> = Object.entries(pricing).map(([pattern, price]) => [compileModelPatterns([pattern]), price]);
  return (model) => entries.find(([m]) => m.allows(model))?.[1] ?? null;
}

/** The cost of `usage` at `price`: uncached input, cache reads and writes (each at the input price unless set), output. */
function costAt(price: ModelPrice, usage: TokenUsage): number {
  const uncached = Math.max(0, usage.inputTokens - usage.cacheReadTokens - usage.cacheWriteTokens);
  const usd = uncached * price.input + usage.cacheReadTokens * (price.cacheRead ?? price.input) + usage.cacheWriteTokens * (price.cacheWrite ?? price.input) + usage.outputTokens * price.output;
  return usd * PER_TOKEN;
}

/** The version a record priced by `policy`'s own prices carries. */
export function policyPriceVersion(policy: Pick<Policy, 'name' | 'version'>): string {
  return `policy ${policy.name} v${policy.version}`;
}

/** `base`, with `policy`'s custom providers priced by the policy (`base` itself when it has none). */
export function withPolicyPrices(base: PriceTable, policy: Pick<Policy, 'name' | 'version' | 'providers'>): PriceTable {
  if (policy.providers.length === 0) return base;
  const lists = new Map(policy.providers.map((p) => [p.id, compilePrices(p.pricing ?? {})]));
  const version = policyPriceVersion(policy);
  return {
    version: base.version,
    versionFor: (provider) => (lists.has(provider) ? version : base.versionFor(provider)),
    rates(provider, model, at): TokenRates | null {
      const list = lists.get(provider);
      if (list === undefined) return base.rates(provider, model, at);
      const price = list(model);
      return price === null ? null : { inputUsd: price.input * PER_TOKEN, outputUsd: price.output * PER_TOKEN };
    },
    cost(provider, model, usage, at) {
      const list = lists.get(provider);
      if (list === undefined) return base.cost(provider, model, usage, at);
      const price = list(model);
      return price === null ? null : costAt(price, usage);
    },
  };
}
