/**
 * Where prompt text lives in Bedrock runtime requests.
 * - Converse (`/converse`, `/converse-stream`): `system[].text`, and each message's content blocks:
 *   `text`, `toolUse.input` (every string), `toolResult.content[]` (`text`, `json`); images,
 *   documents and videos are noted.
 * - InvokeModel: the model's own body. Anthropic models take the Messages shape; the others
 *   (Nova, Llama, Mistral, Titan, Cohere) keep their prompt under `messages`, `system`, `prompt`,
 *   `inputText`, `message` or `chat_history`, whose strings are all read.
 */
import { visitMessages } from '../anthropic/index.js';
import { asNumber, asObject, walkStrings, type TextVisit } from '../json-walk.js';

function visitBlocks(content: unknown, fn: (t: string) => string | undefined, note: (w: string) => void): void {
  if (!Array.isArray(content)) return;
  for (const raw of content) {
    const b = asObject(raw);
    if (b === null) continue;
    if (typeof b['text'] === 'string') b['text'] = fn(b['text']) ?? b['text'];
    else if (asObject(b['toolUse']) !== null) {
      const use = asObject(b['toolUse']) as Record<string, unknown>;
      use['input'] = walkStrings(use['input'], fn);
    } else if (asObject(b['toolResult']) !== null) {
      const result = asObject(b['toolResult']) as Record<string, unknown>;
      const inner = result['content'];
      if (Array.isArray(inner)) {
        for (const part of inner) {
          const p = asObject(part);
          if (p === null) continue;
          if (typeof p['text'] === 'string') p['text'] = fn(p['text']) ?? p['text'];
          else if ('json' in p) p['json'] = walkStrings(p['json'], fn);
        }
      }
    } else {
      for (const kind of ['image', 'document', 'video']) if (kind in b) note(kind);
    }
  }
}

/** Converse: system blocks, then every message's content blocks. */
export const visitConverse: TextVisit = (body, fn, note) => {
  visitBlocks(body['system'], fn, note);
  const messages = body['messages'];
  if (!Array.isArray(messages)) return;
  for (const m of messages) visitBlocks(asObject(m)?.['content'], fn, note);
};

const PROMPT_KEYS = ['system', 'messages', 'prompt', 'inputText', 'message', 'chat_history'] as const;

/** InvokeModel for a model that is not Anthropic's: every string under the prompt keys. */
const visitOtherModel: TextVisit = (body, fn) => {
  for (const key of PROMPT_KEYS) if (key in body) body[key] = walkStrings(body[key], fn);
};

/** The visit for an InvokeModel body of `model` (Anthropic's Messages shape, else the prompt keys). */
export function invokeVisit(model: string): TextVisit {
  return isAnthropicModel(model) ? visitMessages : visitOtherModel;
}

/** True for Anthropic models (`anthropic.claude-…`, inference profiles `us.anthropic.…`, ARNs naming them). */
export function isAnthropicModel(model: string): boolean {
  return model.includes('anthropic.');
}

/** The output cap a Bedrock body names (Converse `inferenceConfig.maxTokens`, the models' own fields). */
export function maxTokens(body: Record<string, unknown>): number | null {
  const config = asObject(body['inferenceConfig']);
  return (
    asNumber(config?.['maxTokens']) ?? asNumber(config?.['max_new_tokens']) ?? asNumber(body['max_tokens']) ?? asNumber(body['max_gen_len']) ?? asNumber(asObject(body['textGenerationConfig'])?.['maxTokenCount'])
  );
}
