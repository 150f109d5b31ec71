/**
 * Custom AI hosts, as policy declares them: a company's own OpenAI- or Anthropic-compatible
 * endpoints (vLLM, Ollama, an internal LiteLLM or Bifrost, Azure AI Foundry under its own domain).
 *
 *   "providers": [{ "id": "corp-llm", "api": "openai", "hosts": ["llm.corp.example", "llm"],
 *                   "pricing": { "llama-3.1-70b": { "input": 0.4, "output": 0.8 } } }]
 *
 * Declaring a provider intercepts its hosts and governs them with the adapter of its API family
 * (guardrails, virtual keys, budgets); its audit records name the provider by `id`.
 */
import { z } from 'zod';
import { hostPattern } from './common.js';

/** A provider's name in policy (`providerKeys`, audit records): lower case, digits and dashes. */
export const providerRef = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/, 'expected a provider id: lower-case letters, digits and "-" (e.g. "corp-llm")');
export type ProviderRef = z.infer<typeof providerRef>;

/** The wire APIs a custom host can speak: each is served by the built-in adapter of that family. */
export const customApi = z.enum(['openai', 'anthropic']);
export type CustomApi = z.infer<typeof customApi>;

const usdPerMillion = z.number().nonnegative('expected US dollars per million tokens (0 or more)');

/** USD per million tokens for one model; 0 is a real price (a self-hosted model), never a default. */
export const modelPrice = z.strictObject({
  input: usdPerMillion,
  output: usdPerMillion,
  /** Cached input tokens read; default: the input price. */
  cacheRead: usdPerMillion.optional(),
  /** Input tokens written to a cache; default: the input price. */
  cacheWrite: usdPerMillion.optional(),
});
export type ModelPrice = z.infer<typeof modelPrice>;

/** A model name or glob as a pricing key (`llama-3.1-70b`, `qwen2.5-*`). */
const pricedModel = z.string().min(1).regex(/^[A-Za-z0-9._:/*@-]+$/, 'expected a model name, optionally with "*"');

export const customProvider = z.strictObject({
  id: providerRef,
  api: customApi,
  /** Hosts served by this provider; internal single-label names (`llm`) are allowed. */
  hosts: z.array(hostPattern).min(1, 'a provider needs at least one host'),
  /**
   * Prices by model (first matching key in document order). A model not listed has no known
   * price: `pricing.unknownModel` of the policy decides (block, or allow and flag).
   */
  pricing: z.record(pricedModel, modelPrice).optional(),
});
export type CustomProvider = z.infer<typeof customProvider>;

/** What request routing needs of a custom provider. */
export type ProviderRoute = Pick<CustomProvider, 'id' | 'api'>;

/** The custom provider serving a host (lower case, no port), or null. */
export type ProviderLookup = (host: string) => ProviderRoute | null;
