/** Custom providers in the core: host lookup, endpoint matching by API family, and the policy's prices. */
import { describe, expect, it } from 'vitest';
import { compileProviderHosts } from '../../../shared/core/hosts.js';
import { withPolicyPrices } from '../../../shared/core/policy-prices.js';
import { genaiPriceTable, type TokenUsage } from '../../../shared/core/pricing.js';
import { matchEndpoint } from '../../../shared/providers/registry.js';
import { policy } from '../../../shared/schema/policy.js';

const p = policy.parse({
  version: 7,
  name: 'corp',
  providers: [
    { id: 'corp-llm', api: 'openai', hosts: ['llm.corp.example', 'llm', '*.vllm.corp.example'], pricing: { 'llama-3.1-70b': { input: 0.4, output: 1.2, cacheRead: 0.1 }, 'qwen*': { input: 0, output: 0 } } },
    { id: 'corp-claude', api: 'anthropic', hosts: ['claude.corp.example'] },
  ],
});
const lookup = compileProviderHosts(p.providers);
const usage = (inputTokens: number, outputTokens: number, cacheReadTokens = 0, cacheWriteTokens = 0): TokenUsage => ({ inputTokens, outputTokens, cacheReadTokens, cacheWriteTokens });

describe('custom provider hosts', () => {
  it('finds the provider of an exact, single-label or wildcard host (trailing dot too), and nothing else', () => {
    expect(lookup('llm.corp.example')?.id).toBe('corp-llm');
    expect(lookup('llm')?.id).toBe('corp-llm');
    expect(lookup('llm.')?.id).toBe('corp-llm');
    expect(lookup('gpu-7.vllm.corp.example')?.id).toBe('corp-llm');
    expect(lookup('vllm.corp.example')).toBeNull();
    expect(lookup('claude.corp.example')).toMatchObject({ id: 'corp-claude', api: 'anthropic' });
    expect(lookup('api.openai.com')).toBeNull();
    expect(compileProviderHosts([])('llm')).toBeNull();
  });
});

describe('endpoints on custom hosts', () => {
  it('matches the OpenAI APIs under any prefix, as the custom provider', () => {
    for (const path of ['/v1/chat/completions', '/openai/v1/chat/completions', '/api/v1/chat/completions?x=1', '/chat/completions']) {
      expect(matchEndpoint('llm', 'POST', path, lookup)).toMatchObject({ provider: 'corp-llm', api: 'chat.completions', pathModel: null });
    }
    expect(matchEndpoint('llm.corp.example', 'POST', '/v1/responses', lookup)).toMatchObject({ provider: 'corp-llm', api: 'responses' });
    expect(matchEndpoint('llm.corp.example', 'POST', '/v1/embeddings', lookup)).toMatchObject({ provider: 'corp-llm', api: 'embeddings' });
  });

  it('reads the model from an Azure-style deployment path (Azure AI Foundry under its own domain)', () => {
    expect(matchEndpoint('llm.corp.example', 'POST', '/openai/deployments/gpt-4o%20eu/chat/completions?api-version=2024-10-21', lookup)).toMatchObject({ provider: 'corp-llm', pathModel: 'gpt-4o eu' });
  });

  it('matches Anthropic messages on an Anthropic-speaking host, and nothing of the other family', () => {
    expect(matchEndpoint('claude.corp.example', 'POST', '/anthropic/v1/messages', lookup)).toMatchObject({ provider: 'corp-claude', api: 'messages' });
    expect(matchEndpoint('claude.corp.example', 'POST', '/v1/chat/completions', lookup)).toBeNull();
    expect(matchEndpoint('llm', 'POST', '/v1/messages', lookup)).toBeNull();
  });

  it('is not an API call for other methods or paths, and a custom host is nothing without the policy', () => {
    expect(matchEndpoint('llm', 'GET', '/v1/models', lookup)).toBeNull();
    expect(matchEndpoint('llm', 'POST', '/v1/files', lookup)).toBeNull();
    expect(matchEndpoint('llm', 'POST', '/v1/chat/completions')).toBeNull();
  });

  it('leaves the built-in hosts to their own adapters', () => {
    expect(matchEndpoint('api.openai.com', 'POST', '/v1/chat/completions', lookup)).toMatchObject({ provider: 'openai' });
    expect(matchEndpoint('api.anthropic.com', 'POST', '/v1/messages', lookup)).toMatchObject({ provider: 'anthropic' });
  });

  it('sends a custom OpenAI-compatible host its key as a bearer token', () => {
    const e = matchEndpoint('llm', 'POST', '/v1/chat/completions', lookup);
    expect(e?.adapter.credential(e, 'sk-corp')).toEqual(['authorization', 'Bearer sk-corp']);
  });
});

describe("the policy's prices for its custom providers", () => {
  const base = genaiPriceTable('@pydantic/genai-prices@test');
  const prices = withPolicyPrices(base, p);
  const at = new Date('2026-06-01T00:00:00Z');

  it('prices a listed model per million tokens, cache reads at their own price and writes at the input price', () => {
    expect(prices.cost('corp-llm', 'llama-3.1-70b', usage(1_000_000, 500_000), at)).toBeCloseTo(0.4 + 0.6, 12);
    expect(prices.cost('corp-llm', 'llama-3.1-70b', usage(1_000_000, 0, 600_000, 100_000), at)).toBeCloseTo(0.3 * 0.4 + 0.6 * 0.1 + 0.1 * 0.4, 12);
    expect(prices.rates('corp-llm', 'llama-3.1-70b', at)).toEqual({ inputUsd: 0.4e-6, outputUsd: 1.2e-6 });
  });

  it('matches model globs, and a price of 0 is a price (free), not unknown', () => {
    expect(prices.cost('corp-llm', 'qwen2.5-72b', usage(1000, 1000), at)).toBe(0);
    expect(prices.rates('corp-llm', 'qwen2.5-72b', at)).toEqual({ inputUsd: 0, outputUsd: 0 });
  });

  it("has no price for a model the policy does not list, even one the price database knows", () => {
    expect(base.rates('openai', 'gpt-4o-mini', at)).not.toBeNull();
    expect(prices.rates('corp-llm', 'gpt-4o-mini', at)).toBeNull();
    expect(prices.cost('corp-llm', 'gpt-4o-mini', usage(10, 10), at)).toBeNull();
    expect(prices.cost('corp-claude', 'claude-sonnet-4', usage(10, 10), at)).toBeNull();
  });

  it("names the policy as the price version for custom providers, the database's for built-in ones", () => {
    expect(prices.versionFor('corp-llm')).toBe('policy corp v7');
    expect(prices.versionFor('openai')).toBe('@pydantic/genai-prices@test');
    expect(prices.cost('openai', 'gpt-4o-mini', usage(1000, 1000), at)).toBe(base.cost('openai', 'gpt-4o-mini', usage(1000, 1000), at));
  });

  it('is the database itself for a policy without providers', () => {
    expect(withPolicyPrices(base, policy.parse({ version: 1, name: 'plain' }))).toBe(base);
  });
});
