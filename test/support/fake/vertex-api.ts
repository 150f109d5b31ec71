/**
 * Vertex AI (`{region}-aiplatform.googleapis.com`, `aiplatform.googleapis.com`): publisher models
 * under `/v1/projects/{p}/locations/{l}/publishers/{publisher}/models/{model}:{method}`.
 * - `google`: `:generateContent` and `:streamGenerateContent` (SSE with `?alt=sse`), the Gemini shape;
 * - `anthropic`: `:rawPredict` and `:streamRawPredict`, the Messages shape with the model in the
 *   path and `anthropic_version: "vertex-2023-10-16"` in the body instead of `model`.
 * Credentials are Google OAuth bearer tokens; errors are Google's.
 */
import { handleMessages } from './anthropic-api.js';
import { handleGenerate, sendGeminiError } from './gemini-api.js';
import type { FakeApi } from './types.js';

const MODEL = '^/v1(?:beta1)?/projects/[^/]+/locations/[^/]+/publishers';

/** Vertex AI's publisher-model routes. */
export const vertexApi: FakeApi = {
  name: 'vertex',
  routes: [
    { method: 'POST', pattern: new RegExp(`${MODEL}/google/models/([^/:]+):generateContent$`), handle: (ex) => handleGenerate(ex, ex.params[0] ?? '', false) },
    { method: 'POST', pattern: new RegExp(`${MODEL}/google/models/([^/:]+):streamGenerateContent$`), handle: (ex) => handleGenerate(ex, ex.params[0] ?? '', true) },
    { method: 'POST', pattern: new RegExp(`${MODEL}/anthropic/models/([^/:]+):(?:rawPredict|streamRawPredict)$`), handle: (ex) => handleMessages(ex, ex.params[0]) },
  ],
  sendError: sendGeminiError,
  apiKeyOf: ({ req }) => /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1],
  authError: () => ({ status: 401, message: 'Request had invalid authentication credentials. Expected OAuth 2 access token.' }),
};
