/**
 * The OpenAI API family: api.openai.com, Azure OpenAI deployments, the OpenAI-compatible hosts
 * (Mistral, Groq, OpenRouter, xAI, DeepSeek, Together, Perplexity) and the coding agents' backends
 * that speak it (GitHub Copilot, Codex signed in with ChatGPT; see hosts.ts). Chat completions,
 * responses and embeddings; the agent asks for the streaming usage chunk when a client did not.
 */
import { openAiError } from '../errors.js';
import { asObject, collect, replace, type TextVisit } from '../json-walk.js';
import type { CustomHostAdapter, Endpoint, ResponseReader } from '../types.js';
import { openAiHost } from './hosts.js';
import { maxTokens, visitChat, visitCompletions, visitEmbeddings, visitResponses } from './request.js';
import { chatReader, completionsReader, embeddingsReader, responsesReader } from './response.js';

interface Api {
  readonly suffix: string;
  readonly visit: TextVisit;
  readonly reader: () => ResponseReader;
}

const APIS: Readonly<Record<string, Api>> = {
  'chat.completions': { suffix: '/chat/completions', visit: visitChat, reader: chatReader },
  responses: { suffix: '/responses', visit: visitResponses, reader: responsesReader },
  embeddings: { suffix: '/embeddings', visit: visitEmbeddings, reader: embeddingsReader },
  // After chat: `/chat/completions` ends with `/completions` too.
  completions: { suffix: '/completions', visit: visitCompletions, reader: completionsReader },
};

/** Copilot's inline completions name their engine (the model) in the path. */
const ENGINE = /\/engines\/([^/]+)\/completions$/;

const AZURE_DEPLOYMENT = /^\/openai\/deployments\/([^/]+)\//;

function api(endpoint: Endpoint): Api {
  return APIS[endpoint.api] as Api;
}

/**
 * The endpoint for `path` under `provider`. Azure-style deployment paths
 * (`/openai/deployments/{d}/…`) name the model for Azure OpenAI and custom hosts (Azure AI Foundry
 * under a company's own domain serves the same paths).
 */
function endpointFor(provider: string, path: string, deployments: boolean, signedIn = false): Endpoint | null {
  for (const [name, a] of Object.entries(APIS)) {
    if (!path.endsWith(a.suffix)) continue;
    const named = (deployments ? AZURE_DEPLOYMENT.exec(path)?.[1] : undefined) ?? (name === 'completions' ? ENGINE.exec(path)?.[1] : undefined) ?? null;
    const endpoint: Endpoint = { adapter: openAiAdapter, provider, api: name, pathModel: named === null ? null : decodeURIComponent(named), pathStream: false };
    return signedIn ? { ...endpoint, signedIn } : endpoint;
  }
  return null;
}

/** The OpenAI family adapter. */
export const openAiAdapter: CustomHostAdapter = {
  id: 'openai',
  match(host, method, path) {
    if (method !== 'POST') return null;
    const h = openAiHost(host);
    if (h === null || (h.prefix !== null && !path.startsWith(h.prefix))) return null;
    return endpointFor(h.provider, path, h.provider === 'azure-openai', h.signedIn);
  },
  matchCustom(provider, method, path) {
    return method === 'POST' ? endpointFor(provider, path, true) : null;
  },
  parse(endpoint, body) {
    const o = asObject(body) ?? {};
    const { texts, chars, notes } = collect(api(endpoint).visit, o);
    const model = typeof o['model'] === 'string' ? o['model'] : endpoint.pathModel;
    return { model, stream: o['stream'] === true, texts, promptChars: chars, notes, maxOutputTokens: maxTokens(o) };
  },
  rewriteTexts(endpoint, body, texts) {
    const o = asObject(body);
    if (o !== null) replace(api(endpoint).visit, o, texts);
  },
  prepare(endpoint, body, parsed) {
    // Only chat completions hide usage from streams unless asked; Responses always reports it.
    if (endpoint.api !== 'chat.completions' || !parsed.stream) return false;
    const o = asObject(body) as Record<string, unknown>;
    const opts = asObject(o['stream_options']);
    if (opts?.['include_usage'] === true) return false;
    o['stream_options'] = { ...(opts ?? {}), include_usage: true };
    return true;
  },
  reader: (endpoint) => api(endpoint).reader(),
  credential: (endpoint, key) => (endpoint.provider === 'azure-openai' ? ['api-key', key] : ['authorization', `Bearer ${key}`]),
  error: openAiError,
};
