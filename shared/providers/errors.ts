/** Error bodies in each API family's own shape (docs/architecture.md "Errors to clients"). */
import type { ErrorShape } from './types.js';

const JSON_TYPE = 'application/json';

/** OpenAI-style: `{"error":{"message","type","code","param":null}}`. */
export function openAiError(status: number, code: string, message: string): ErrorShape {
  const type = status === 429 ? 'rate_limit_error' : status === 401 ? 'authentication_error' : status === 402 ? 'insufficient_quota' : status >= 500 ? 'server_error' : 'invalid_request_error';
  return { contentType: JSON_TYPE, body: JSON.stringify({ error: { message, type, code, param: null } }) };
}

/** Anthropic: `{"type":"error","error":{"type","message"}}`; the type follows Anthropic's own list. */
export function anthropicError(status: number, _code: string, message: string): ErrorShape {
  const type =
    status === 401 ? 'authentication_error' : status === 403 ? 'permission_error' : status === 429 ? 'rate_limit_error' : status === 402 ? 'billing_error' : status === 413 ? 'request_too_large' : status >= 500 ? 'api_error' : 'invalid_request_error';
  return { contentType: JSON_TYPE, body: JSON.stringify({ type: 'error', error: { type, message } }) };
}

/** Gemini (Google API errors): `{"error":{"code","message","status"}}`. */
export function geminiError(status: number, _code: string, message: string): ErrorShape {
  const s =
    status === 401 ? 'UNAUTHENTICATED' : status === 403 ? 'PERMISSION_DENIED' : status === 429 ? 'RESOURCE_EXHAUSTED' : status === 402 ? 'RESOURCE_EXHAUSTED' : status === 413 ? 'INVALID_ARGUMENT' : status >= 500 ? 'UNAVAILABLE' : 'FAILED_PRECONDITION';
  return { contentType: JSON_TYPE, body: JSON.stringify({ error: { code: status, message, status: s } }) };
}
