/**
 * Prices come from `@pydantic/genai-prices` (a maintained price database), never a hand-typed table.
 * Admission needs only per-token rates for an estimate, cached per provider and model; the real cost
 * on completion goes through the package's own calculation (tiers, cache reads and writes). A model
 * with no known price is reported as such (null), for the policy to block it or allow and flag it.
 */
import { calcPrice, type ModelPrice, type PriceCalculation, type PriceOptions, type Provider } from '@pydantic/genai-prices';
import type { ProviderId } from '../schema/policy.js';

/** Tokens of one request. `inputTokens` counts every input token, cached ones included. */
export interface TokenUsage {
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cacheReadTokens: number;
  readonly cacheWriteTokens: number;
}

/** USD per token for the admission estimate. */
export interface TokenRates {
  readonly inputUsd: number;
  readonly outputUsd: number;
}

/** A price source; `version` goes on every audit record it prices. */
export interface PriceTable {
  readonly version: string;
  /** Rates for the estimate at admission, or null when the model has no known price. */
  rates(provider: ProviderId, model: string, at: Date): TokenRates | null;
  /** The real cost, or null when the model has no known price. */
  cost(provider: ProviderId, model: string, usage: TokenUsage, at: Date): number | null;
}

/** Our provider ids → the package's, most specific first (Azure falls back to OpenAI's list). */
const PACKAGE_PROVIDERS: Record<ProviderId, readonly string[]> = {
  openai: ['openai'],
  'azure-openai': ['azure', 'openai'],
  anthropic: ['anthropic'],
  gemini: ['google'],
  mistral: ['mistral'],
  groq: ['groq'],
  openrouter: ['openrouter'],
  xai: ['x-ai'],
  deepseek: ['deepseek'],
  together: ['together'],
  perplexity: ['perplexity'],
};

function perToken(price: ModelPrice[string]): number {
  if (typeof price === 'number') return price / 1e6;
  if (price !== undefined && typeof price === 'object') return price.base / 1e6;
  return 0;
}

function calc(provider: ProviderId, model: string, usage: Record<string, number>, at: Date): PriceCalculation | null {
  for (const providerId of PACKAGE_PROVIDERS[provider]) {
    const options: PriceOptions = { providerId, timestamp: at };
    const r = calcPrice(usage, model, options);
    if (r !== null) return r;
  }
  return null;
}

/**
 * The package's provider narrowed to the one model a lookup found. Passed back as
 * `PriceOptions.provider`, it skips the search through every provider and model (about half of a
 * `calcPrice` call) while the package still does the calculation: tiers, cache tokens, and the
 * price in force at the request's time.
 */
/** Models remembered per cache: the names come from requests, so the caches are bounded. */
const MAX_CACHED_MODELS = 1024;

function remember<T>(cache: Map<string, T>, key: string, value: T): void {
  if (cache.size >= MAX_CACHED_MODELS) cache.clear();
  cache.set(key, value);
}

function narrowed(found: PriceCalculation): Provider {
  return { ...found.provider, models: [found.model] };
}

/**
 * The price table backed by `@pydantic/genai-prices`. `version` names the package version (the
 * package embeds its data, so the package version is the data version); the agent reads it from the
 * installed package and passes it in, keeping this module free of file access.
 */
export function genaiPriceTable(version: string): PriceTable {
  const rateCache = new Map<string, TokenRates | null>();
  /** Per provider and model: the narrowed provider (see `narrowed`), or null when it has no price. */
  const providerCache = new Map<string, Provider | null>();
  return {
    version,
    rates(provider, model, at) {
      const key = `${provider}/${model}`;
      const hit = rateCache.get(key);
      if (hit !== undefined) return hit;
      const r = calc(provider, model, { input_tokens: 1, output_tokens: 1 }, at);
      const rates = r === null ? null : { inputUsd: perToken(r.model_price['input_mtok']), outputUsd: perToken(r.model_price['output_mtok']) };
      remember(rateCache, key, rates);
      return rates;
    },
    cost(provider, model, usage, at) {
      const tokens = {
        input_tokens: usage.inputTokens,
        output_tokens: usage.outputTokens,
        cache_read_tokens: usage.cacheReadTokens,
        cache_write_tokens: usage.cacheWriteTokens,
      };
      const key = `${provider}/${model}`;
      const known = providerCache.get(key);
      if (known === null) return null;
      if (known !== undefined) return calcPrice(tokens, model, { provider: known, timestamp: at })?.total_price ?? null;
      const r = calc(provider, model, tokens, at);
      remember(providerCache, key, r === null ? null : narrowed(r));
      return r === null ? null : r.total_price;
    },
  };
}
