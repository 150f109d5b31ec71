/**
 * Hosts that speak the OpenAI API (OpenAI itself and the compatible hosts) and the path prefixes
 * they serve it under. Azure OpenAI deployments are any `*.openai.azure.com`. Two coding agents
 * speak it on their own backends, signed in with the user's account:
 * - GitHub Copilot: `api.githubcopilot.com` and the plan hosts `api.{individual,business,enterprise}
 *   .githubcopilot.com` (and any other `api.*.githubcopilot.com`), at `/chat/completions` and
 *   `/responses` without `/v1`; inline code completions on `proxy.{plan}.githubcopilot.com` at
 *   `/v1/engines/{engine}/completions` (the legacy completions shape: `prompt`, `suffix`);
 * - Codex signed in with ChatGPT: `chatgpt.com/backend-api/codex/responses` (the Responses API). The
 *   rest of chatgpt.com is the web app (web-apps/), so only that prefix is OpenAI-shaped.
 */
import type { ProviderId } from '../../schema/policy.js';

/** How a host speaks the OpenAI API. */
export interface OpenAiHost {
  readonly provider: ProviderId;
  /** The client signs in with the user's account (no provider key to swap). */
  readonly signedIn: boolean;
  /** Only paths under this prefix are the API (the host serves other things too), or null. */
  readonly prefix: string | null;
}

const keyed = (provider: ProviderId): OpenAiHost => ({ provider, signedIn: false, prefix: null });

/** Host → how it speaks the OpenAI API, for the hosts named exactly. */
export const OPENAI_COMPATIBLE_HOSTS: ReadonlyMap<string, OpenAiHost> = new Map<string, OpenAiHost>([
  ['api.openai.com', keyed('openai')],
  ['api.mistral.ai', keyed('mistral')],
  ['api.groq.com', keyed('groq')],
  ['openrouter.ai', keyed('openrouter')],
  ['api.x.ai', keyed('xai')],
  ['api.deepseek.com', keyed('deepseek')],
  ['api.together.xyz', keyed('together')],
  ['api.perplexity.ai', keyed('perplexity')],
  ['api.githubcopilot.com', { provider: 'github-copilot', signedIn: true, prefix: null }],
  ['chatgpt.com', { provider: 'openai-codex', signedIn: true, prefix: '/backend-api/codex/' }],
]);

const AZURE: OpenAiHost = keyed('azure-openai');
const COPILOT_PLAN: OpenAiHost = { provider: 'github-copilot', signedIn: true, prefix: null };
/**
 * Copilot's plan hosts: chat on `api.business.githubcopilot.com` (`api.enterprise…`,
 * `api.individual…`), inline code completions on `proxy.business.githubcopilot.com` and the like.
 */
const COPILOT_PLAN_HOST = /^(?:api|proxy)\.[a-z0-9-]+\.githubcopilot\.com$/;

/** How `host` speaks the OpenAI API, or null when it does not. */
export function openAiHost(host: string): OpenAiHost | null {
  const known = OPENAI_COMPATIBLE_HOSTS.get(host);
  if (known !== undefined) return known;
  if (host.endsWith('.openai.azure.com')) return AZURE;
  return COPILOT_PLAN_HOST.test(host) ? COPILOT_PLAN : null;
}
