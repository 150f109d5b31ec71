/**
 * OpenAI `GET /v1/models`: a list object of `model` entries.
 */
import { openaiHeaders } from './openai-common.js';
import { sendJson } from './respond.js';
import type { Exchange } from './types.js';

/** The models the fake lists (any model name is still accepted by the other endpoints). */
export const FAKE_OPENAI_MODELS = ['gpt-4o-mini', 'gpt-4.1', 'o4-mini', 'text-embedding-3-small'] as const;

/** Answers the model list. */
export function handleModels(exchange: Exchange): void {
  sendJson(exchange, 200, openaiHeaders('application/json'), {
    object: 'list',
    data: FAKE_OPENAI_MODELS.map((id) => ({ id, object: 'model', created: 1_700_000_000, owned_by: 'system' })),
  });
}
