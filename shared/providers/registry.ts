/**
 * The provider registry: every adapter, asked in order which one recognises a request. Adding a
 * provider is adding its folder and one entry here.
 */
import { anthropicAdapter } from './anthropic/index.js';
import { geminiAdapter } from './gemini/index.js';
import { openAiAdapter } from './openai/index.js';
import type { Endpoint, ProviderAdapter } from './types.js';
import { webAppsAdapter } from './web-apps/index.js';

/** Every adapter, in match order. */
export const PROVIDER_ADAPTERS: readonly ProviderAdapter[] = [openAiAdapter, anthropicAdapter, geminiAdapter, webAppsAdapter];

/** The endpoint a request is (`path` with or without its query), or null when it is not a governed AI API call. */
export function matchEndpoint(host: string, method: string, path: string): Endpoint | null {
  const q = path.indexOf('?');
  const bare = q === -1 ? path : path.slice(0, q);
  for (const adapter of PROVIDER_ADAPTERS) {
    const e = adapter.match(host, method, bare);
    if (e !== null) return e;
  }
  return null;
}
