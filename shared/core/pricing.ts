/**
 * Prices come from `@pydantic/genai-prices` (a maintained price database), never a hand-typed table.
 * Admission needs only per-token rates for an estimate, cached per provider and model; the real cost
 * on completion is the package's own calculation (tiers, cache reads and writes, prices by date),
 * or, for a flat price, its coefficients read from the package once per model (`linearPrice`). A model
 * with no known price is reported as such (null), for the policy to block it or allow and flag it.
 */
import { calcPrice, type ModelPrice, type PriceCalculation, type PriceOptions, type Provider } from '@pydantic/genai-prices';
import type { ProviderRef } from '../schema/custom-provider.js';
import type { ProviderId } from '../schema/policy.js';

/** Tokens of one request. `inputTokens` counts every input token, cached ones included. */
export interface TokenUsage {
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cacheReadTokens: number;
  readonly cacheWriteTokens: number;
  /** Of `inputTokens` and `outputTokens`, those that were audio (realtime sessions), priced at the model's audio rates. */
  readonly inputAudioTokens?: number;
  readonly outputAudioTokens?: number;
}

/** USD per token for the admission estimate. */
export interface TokenRates {
  readonly inputUsd: number;
  readonly outputUsd: number;
}

/** A price source; the version of the prices used goes on every audit record it prices. */
export interface PriceTable {
  /** The version of the table's own prices. */
  readonly version: string;
  /** The version of the prices `provider` is priced with (a policy's own prices for its custom providers). */
  versionFor(provider: ProviderRef): string;
  /** Rates for the estimate at admission, or null when the model has no known price. */
  rates(provider: ProviderRef, model: string, at: Date): TokenRates | null;
  /** The real cost, or null when the model has no known price. */
  cost(provider: ProviderRef, model: string, usage: TokenUsage, at: Date): number | null;
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
  // Copilot serves OpenAI, Anthropic and Google models under their own names: priced as the API
  // would price them (what the same usage costs on an API key), never as $0.
  'github-copilot': ['openai', 'anthropic', 'google'],
  'openai-codex': ['openai'],
  'gemini-code-assist': ['google'],
  // Vertex names Anthropic models `claude-…@DATE`, which the Anthropic list prices.
  'vertex-ai': ['google', 'anthropic'],
  // Bedrock model ids (`anthropic.claude-…-v2:0`, `us.amazon.nova-pro-v1:0`) are the package's `aws` names.
  bedrock: ['aws'],
  // Opaque (Connect/protobuf): no model or usage is read, so nothing is priced.
  cursor: [],
};

function perToken(price: ModelPrice[string]): number {
  if (typeof price === 'number') return price / 1e6;
  if (price !== undefined && typeof price === 'object') return price.base / 1e6;
  return 0;
}

function calc(provider: ProviderRef, model: string, usage: Record<string, number>, at: Date): PriceCalculation | null {
  // A provider the package does not know (a custom one this table is asked about) has no price.
  for (const providerId of (PACKAGE_PROVIDERS as Partial<Record<ProviderRef, readonly string[]>>)[provider] ?? []) {
    const options: PriceOptions = { providerId, timestamp: at };
    const r = calcPrice(usage, model, options);
    if (r !== null) return r;
  }
  return null;
}

/** Models remembered per cache: the names come from requests, so the caches are bounded. */
const MAX_CACHED_MODELS = 1024;

function remember<T>(cache: Map<string, T>, key: string, value: T): void {
  if (cache.size >= MAX_CACHED_MODELS) cache.clear();
  cache.set(key, value);
}

/** USD as a linear function of the four token counts (plus a per-request constant). */
interface LinearPrice {
  readonly perRequest: number;
  readonly input: number;
  readonly output: number;
  readonly cacheRead: number;
  readonly cacheWrite: number;
}

/** A model whose price was found once. */
interface PricedModel {
  /**
   * The package's provider narrowed to the one model found: passed back as
   * `PriceOptions.provider`, it skips the search through every provider and model.
   */
  readonly provider: Provider;
  /** Set when the model's price is one flat set (no tiers, no dated or time-of-day prices). */
  readonly linear: LinearPrice | null;
}

const PROBE_TOKENS = 1_000_000;

/**
 * For a flat price, the package's own calculation is linear in the token counts (each unit's leaf
 * count times its price): its coefficients are read from the package by probing it once per model,
 * then checked against it on a mixed usage. A price with tiers or conditions returns null and
 * every cost goes through the package.
 */
function linearPrice(model: string, found: PriceCalculation, provider: Provider, at: Date): LinearPrice | null {
  const prices = found.model.prices;
  if (Array.isArray(prices) || Object.values(prices).some((v) => v !== undefined && typeof v !== 'number')) return null;
  const price = (input: number, output: number, cacheRead: number, cacheWrite: number): number | null =>
    calcPrice({ input_tokens: input, output_tokens: output, cache_read_tokens: cacheRead, cache_write_tokens: cacheWrite }, model, { provider, timestamp: at })?.total_price ?? null;
  const n = PROBE_TOKENS;
  const zero = price(0, 0, 0, 0);
  const input = price(n, 0, 0, 0);
  const output = price(0, n, 0, 0);
  const read = price(n, 0, n, 0);
  const write = price(n, 0, 0, n);
  if (zero === null || input === null || output === null || read === null || write === null) return null;
  const linear: LinearPrice = { perRequest: zero, input: (input - zero) / n, output: (output - zero) / n, cacheRead: (read - input) / n, cacheWrite: (write - input) / n };
  const check = price(3 * n, 2 * n, n, n / 2);
  const mine = linearCost(linear, { inputTokens: 3 * n, outputTokens: 2 * n, cacheReadTokens: n, cacheWriteTokens: n / 2 });
  return check !== null && Math.abs(check - mine) <= 1e-9 * Math.max(1, Math.abs(check)) ? linear : null;
}

function linearCost(p: LinearPrice, u: TokenUsage): number {
  return p.perRequest + u.inputTokens * p.input + u.outputTokens * p.output + u.cacheReadTokens * p.cacheRead + u.cacheWriteTokens * p.cacheWrite;
}

/**
 * The price table backed by `@pydantic/genai-prices`. `version` names the package version (the
 * package embeds its data, so the package version is the data version); the agent reads it from the
 * installed package and passes it in, keeping this module free of file access.
 */
export function genaiPriceTable(version: string): PriceTable {
  const rateCache = new Map<string, TokenRates | null>();
  /** Per provider and model: how to price it (see `PricedModel`), or null when it has no price. */
  const priced = new Map<string, PricedModel | null>();
  return {
    version,
    versionFor: () => version,
    rates(provider, model, at) {
      const key = `${provider}/${model}`;
      const hit = rateCache.get(key);
      if (hit !== undefined) return hit;
      const r = calc(provider, model, { input_tokens: 1, output_tokens: 1 }, at);
      const rates = r === null ? null : { inputUsd: perToken(r.model_price['input_mtok']), outputUsd: perToken(r.model_price['output_mtok']) };
      remember(rateCache, key, rates);
      return rates;
    },
    // Hot path (every completion): a flat price is a few multiplications; the package's
    // calculation (unit lattice, validation) cost about 10 µs per call.
    cost(provider, model, usage, at) {
      const key = `${provider}/${model}`;
      const known = priced.get(key);
      if (known === null) return null;
      // The package refuses cached counts above the input count: let it say so.
      const audio = (usage.inputAudioTokens ?? 0) + (usage.outputAudioTokens ?? 0) > 0;
      if (!audio && known !== undefined && known.linear !== null && usage.cacheReadTokens + usage.cacheWriteTokens <= usage.inputTokens) return linearCost(known.linear, usage);
      const tokens: Record<string, number> = {
        input_tokens: usage.inputTokens,
        output_tokens: usage.outputTokens,
        cache_read_tokens: usage.cacheReadTokens,
        cache_write_tokens: usage.cacheWriteTokens,
      };
      // Audio has its own rates; the package takes the audio share of each count.
      if (audio) {
        tokens['input_audio_tokens'] = usage.inputAudioTokens ?? 0;
        tokens['output_audio_tokens'] = usage.outputAudioTokens ?? 0;
      }
      if (known !== undefined) return calcPrice(tokens, model, { provider: known.provider, timestamp: at })?.total_price ?? null;
      const r = calc(provider, model, tokens, at);
      if (r === null) {
        remember(priced, key, null);
        return null;
      }
      const narrowed: Provider = { ...r.provider, models: [r.model] };
      remember(priced, key, { provider: narrowed, linear: linearPrice(model, r, narrowed, at) });
      return r.total_price;
    },
  };
}
