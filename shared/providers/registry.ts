/**
 * The provider registry: every adapter, asked in order which one recognises a request. Adding a
 * provider is adding its folder and one entry here. A host of a custom provider (policy
 * `providers`) is answered by the adapter of the API family it speaks, under the provider's id.
 */
import { anthropicAdapter } from './anthropic/index.js';
import { bedrockAdapter } from './bedrock/index.js';
import { codeAssistAdapter } from './code-assist/index.js';
import { geminiAdapter } from './gemini/index.js';
import { openAiAdapter } from './openai/index.js';
import type { CustomApi, ProviderLookup } from '../schema/custom-provider.js';
import { vertexAdapter } from './vertex/index.js';
import type { CustomHostAdapter, Endpoint, ProviderAdapter } from './types.js';
import { webAppsAdapter } from './web-apps/index.js';

/** Every adapter, in match order. */
export const PROVIDER_ADAPTERS: readonly ProviderAdapter[] = [openAiAdapter, anthropicAdapter, geminiAdapter, codeAssistAdapter, vertexAdapter, bedrockAdapter, webAppsAdapter];

/** The adapter serving each API family a custom host may speak. */
export const CUSTOM_API_ADAPTERS: Readonly<Record<CustomApi, CustomHostAdapter>> = { openai: openAiAdapter, anthropic: anthropicAdapter };

const NONE: ProviderLookup = () => null;

/**
 * The endpoint a request is (`path` with or without its query), or null when it is not a governed
 * AI API call. `custom` names the policy's custom provider of a host (`CompiledPolicy.providerHosts`);
 * a custom host is matched only as its provider's API family.
 */
export function matchEndpoint(host: string, method: string, path: string, custom: ProviderLookup = NONE): Endpoint | null {
  const q = path.indexOf('?');
  const bare = q === -1 ? path : path.slice(0, q);
  const own = custom(host);
  if (own !== null) return CUSTOM_API_ADAPTERS[own.api].matchCustom(own.id, method, bare);
  for (const adapter of PROVIDER_ADAPTERS) {
    const e = adapter.match(host, method, bare);
    if (e !== null) return e;
  }
  return null;
}
