/**
 * Vertex AI (`{region}-aiplatform.googleapis.com` and the global `aiplatform.googleapis.com`):
 * publisher models at `/v1/projects/{p}/locations/{l}/publishers/{publisher}/models/{model}:{method}`
 * (`v1beta1` too), the model named by the path.
 * - `google` models: `:generateContent`, `:streamGenerateContent` (`?alt=sse`): the Gemini shape,
 *   read by the Gemini adapter;
 * - `anthropic` models: `:rawPredict`, `:streamRawPredict`: the Messages shape (without `model`,
 *   with `anthropic_version`), read by the Anthropic adapter.
 * Clients authenticate with Google Cloud credentials (an OAuth bearer token from ADC or a service
 * account), so a virtual key is not required (`signedIn`). Errors take Google's shape.
 *
 * Region hosts cannot be one policy pattern (`*-aiplatform` is not a DNS subtree): a policy lists
 * the regions its people use. Clients that speak only HTTP/2 (the gRPC transport of Google's Cloud
 * SDKs) cannot go through the agent, which speaks HTTP/1.1; the REST transport can.
 */
import { anthropicAdapter } from '../anthropic/index.js';
import { geminiError } from '../errors.js';
import { geminiAdapter } from '../gemini/index.js';
import type { Endpoint, ProviderAdapter } from '../types.js';

const HOST = /^(?:[a-z0-9-]+-)?aiplatform\.googleapis\.com$/;
const PATH = /^\/v1(?:beta1)?\/projects\/[^/]+\/locations\/[^/]+\/publishers\/([^/]+)\/models\/([^/:]+):([A-Za-z]+)$/;

/** Which adapter reads each publisher's methods, and whether the method streams. */
const METHODS: Readonly<Record<string, Readonly<Record<string, { readonly delegate: ProviderAdapter; readonly stream: boolean }>>>> = {
  google: { generateContent: { delegate: geminiAdapter, stream: false }, streamGenerateContent: { delegate: geminiAdapter, stream: true } },
  anthropic: { rawPredict: { delegate: anthropicAdapter, stream: false }, streamRawPredict: { delegate: anthropicAdapter, stream: true } },
};

function delegate(endpoint: Endpoint): ProviderAdapter {
  return endpoint.api === 'rawPredict' || endpoint.api === 'streamRawPredict' ? anthropicAdapter : geminiAdapter;
}

/** The Vertex AI adapter. */
export const vertexAdapter: ProviderAdapter = {
  id: 'vertex',
  match(host, method, path) {
    if (method !== 'POST' || !HOST.test(host)) return null;
    const m = PATH.exec(path);
    const found = m === null ? undefined : METHODS[m[1] as string]?.[m[3] as string];
    if (m === null || found === undefined) return null;
    return { adapter: vertexAdapter, provider: 'vertex-ai', api: m[3] as string, pathModel: decodeURIComponent(m[2] as string), pathStream: found.stream, signedIn: true };
  },
  parse(endpoint, body) {
    const parsed = delegate(endpoint).parse(endpoint, body);
    // The Messages body names no model on Vertex; the path does. `streamRawPredict` streams.
    return { ...parsed, model: endpoint.pathModel, stream: parsed.stream || endpoint.pathStream };
  },
  rewriteTexts: (endpoint, body, texts) => delegate(endpoint).rewriteTexts(endpoint, body, texts),
  prepare: () => false,
  reader: (endpoint) => delegate(endpoint).reader(endpoint),
  credential: (_endpoint, key) => ['authorization', `Bearer ${key}`],
  error: geminiError,
};
