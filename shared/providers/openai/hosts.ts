/**
 * Hosts that speak the OpenAI API (OpenAI itself and the compatible hosts) and the path prefixes
 * they serve it under. Azure OpenAI deployments are any `*.openai.azure.com`.
 */
import type { ProviderId } from '../../schema/policy.js';

/** Host → provider id, for the OpenAI-compatible hosts. */
export const OPENAI_COMPATIBLE_HOSTS: ReadonlyMap<string, ProviderId> = new Map<string, ProviderId>([
  ['api.openai.com', 'openai'],
  ['api.mistral.ai', 'mistral'],
  ['api.groq.com', 'groq'],
  ['openrouter.ai', 'openrouter'],
  ['api.x.ai', 'xai'],
  ['api.deepseek.com', 'deepseek'],
  ['api.together.xyz', 'together'],
  ['api.perplexity.ai', 'perplexity'],
]);

/** The provider for `host`, or null when the host does not speak the OpenAI API. */
export function openAiProviderFor(host: string): ProviderId | null {
  const known = OPENAI_COMPATIBLE_HOSTS.get(host);
  if (known !== undefined) return known;
  return host.endsWith('.openai.azure.com') ? 'azure-openai' : null;
}
