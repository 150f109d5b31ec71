/**
 * The OpenAI-style route table. Served on api.openai.com and the OpenAI-compatible hosts, whose
 * paths differ only by prefix (OpenRouter `/api/v1`, Groq `/openai/v1`), and on Azure OpenAI
 * (`/openai/deployments/{deployment}/…`, the deployment standing in for the model).
 */
import { handleChatCompletions } from './openai-chat.js';
import { sendOpenAiError } from './openai-common.js';
import { handleEmbeddings } from './openai-embeddings.js';
import { handleModels } from './openai-models.js';
import { handleResponses } from './openai-responses.js';
import type { FakeApi } from './types.js';

const PREFIX = '(?:/api|/openai)?/v1';

/** OpenAI and the OpenAI-compatible APIs. */
export const openAiApi: FakeApi = {
  name: 'openai',
  routes: [
    { method: 'POST', pattern: new RegExp(`^${PREFIX}/chat/completions$`), handle: (ex) => handleChatCompletions(ex) },
    {
      method: 'POST',
      pattern: /^\/openai\/deployments\/([^/]+)\/chat\/completions$/,
      handle: (ex) => handleChatCompletions(ex, ex.params[0]),
    },
    { method: 'POST', pattern: new RegExp(`^${PREFIX}/responses$`), handle: handleResponses },
    { method: 'POST', pattern: new RegExp(`^${PREFIX}/embeddings$`), handle: handleEmbeddings },
    {
      method: 'POST',
      pattern: /^\/openai\/deployments\/([^/]+)\/embeddings$/,
      handle: handleEmbeddings,
    },
    { method: 'GET', pattern: new RegExp(`^${PREFIX}/models$`), handle: handleModels },
  ],
  sendError: sendOpenAiError,
  apiKeyOf: ({ req }) => {
    const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const azure = req.headers['api-key'];
    return bearer ?? (typeof azure === 'string' ? azure : undefined);
  },
  authError: (presented) => ({
    status: 401,
    message: presented
      ? `Incorrect API key provided: ${presented.slice(0, 3)}***${presented.slice(-4)}. You can find your API key at https://platform.openai.com/account/api-keys.`
      : "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
    type: 'invalid_request_error',
    code: presented ? 'invalid_api_key' : null,
  }),
};
