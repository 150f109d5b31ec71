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
};
