/**
 * What every OpenAI-style endpoint of the fake shares: response headers, usage objects and the
 * error shape `{"error":{"message","type","param","code"}}`.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import { randomId, sendJson } from './respond.js';
import type { ErrorKnob, Exchange } from './types.js';

/** Headers the OpenAI API sends with every answer (request id, version, rate-limit state). */
export function openaiHeaders(contentType: string): OutgoingHttpHeaders {
  return {
    'content-type': contentType,
    'x-request-id': randomId('req_', 16),
    'openai-version': '2020-10-01',
    'openai-organization': 'outpost-tests',
    'openai-processing-ms': '7',
    'x-ratelimit-limit-requests': '10000',
    'x-ratelimit-remaining-requests': '9999',
    'x-ratelimit-limit-tokens': '30000000',
    'x-ratelimit-remaining-tokens': '29999000',
    'x-ratelimit-reset-requests': '6ms',
    'x-ratelimit-reset-tokens': '2ms',
  };
}

/** Default `type` and `code` by status, as the OpenAI API uses them. */
function defaults(status: number): { type: string; code: string | null } {
  if (status === 401) return { type: 'invalid_request_error', code: 'invalid_api_key' };
  if (status === 403) return { type: 'invalid_request_error', code: 'unsupported_country_region_territory' };
  if (status === 404) return { type: 'invalid_request_error', code: 'model_not_found' };
  if (status === 429) return { type: 'requests', code: 'rate_limit_exceeded' };
  if (status >= 500) return { type: 'server_error', code: null };
  return { type: 'invalid_request_error', code: null };
}

/** Writes an OpenAI-shaped error. */
export function sendOpenAiError(exchange: Exchange, error: ErrorKnob): void {
  const fallback = defaults(error.status);
  const headers = openaiHeaders('application/json');
  if (error.retryAfterSeconds !== undefined) headers['retry-after'] = String(error.retryAfterSeconds);
  sendJson(exchange, error.status, headers, {
    error: {
      message: error.message ?? `Fake provider error ${error.status}.`,
      type: error.type ?? fallback.type,
      param: null,
      code: error.code === undefined ? fallback.code : error.code,
    },
  });
}

/** Chat Completions usage, with the detail objects the API always includes. */
export function chatUsage(promptTokens: number, completionTokens: number, cachedTokens: number): Record<string, unknown> {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: cachedTokens, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

/** A `system_fingerprint` value (the API reports the backend configuration this way). */
export const SYSTEM_FINGERPRINT = 'fp_outpost01';

/** Seconds since the epoch, as `created` fields carry it. */
export function unixSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
