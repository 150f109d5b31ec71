/** Where prompt text lives in OpenAI-style request bodies (chat completions, responses, embeddings). */
import { asNumber, asObject, walkStrings, type TextVisit } from '../json-walk.js';

function visitContent(content: unknown, fn: (t: string) => string | undefined, note: (w: string) => void): unknown {
  if (typeof content === 'string') return fn(content) ?? content;
  if (!Array.isArray(content)) return content;
  for (const part of content) {
    const p = asObject(part);
    if (p === null) continue;
    if (typeof p['text'] === 'string') p['text'] = fn(p['text']) ?? p['text'];
    else if (typeof p['output'] === 'string') p['output'] = fn(p['output']) ?? p['output'];
    else if (typeof p['type'] === 'string') note(String(p['type']).replace(/^input_/, '').replace(/_url$/, ''));
  }
  return content;
}

/** Chat completions: every message's content, tool-call arguments, and tool results. */
export const visitChat: TextVisit = (body, fn, note) => {
  const messages = body['messages'];
  if (!Array.isArray(messages)) return;
  for (const raw of messages) {
    const m = asObject(raw);
    if (m === null) continue;
    if ('content' in m) m['content'] = visitContent(m['content'], fn, note);
    if (Array.isArray(m['tool_calls'])) {
      for (const call of m['tool_calls']) {
        const f = asObject(asObject(call)?.['function']);
        if (f !== null && typeof f['arguments'] === 'string') f['arguments'] = fn(f['arguments']) ?? f['arguments'];
      }
    }
    const legacy = asObject(m['function_call']);
    if (legacy !== null && typeof legacy['arguments'] === 'string') legacy['arguments'] = fn(legacy['arguments']) ?? legacy['arguments'];
  }
};

/** Responses: instructions, then input (a string, or items: messages, function and custom tool calls, and their outputs). */
export const visitResponses: TextVisit = (body, fn, note) => {
  if (typeof body['instructions'] === 'string') body['instructions'] = fn(body['instructions']) ?? body['instructions'];
  const input = body['input'];
  if (typeof input === 'string') {
    body['input'] = fn(input) ?? input;
    return;
  }
  if (!Array.isArray(input)) return;
  for (const raw of input) {
    const item = asObject(raw);
    if (item === null) continue;
    if ('content' in item) item['content'] = visitContent(item['content'], fn, note);
    if (typeof item['arguments'] === 'string') item['arguments'] = fn(item['arguments']) ?? item['arguments'];
    // A custom (freeform) tool call carries its input as text: Codex's apply_patch sends whole patches.
    if (item['type'] === 'custom_tool_call' && typeof item['input'] === 'string') item['input'] = fn(item['input']) ?? item['input'];
    if (typeof item['output'] === 'string') item['output'] = fn(item['output']) ?? item['output'];
    else if (Array.isArray(item['output'])) item['output'] = visitContent(item['output'], fn, note);
  }
};

/** Embeddings: `input`, a string or strings (token arrays carry no text to inspect). */
export const visitEmbeddings: TextVisit = (body, fn) => {
  const input = body['input'];
  if (typeof input === 'string' || (Array.isArray(input) && input.every((x) => typeof x === 'string'))) body['input'] = walkStrings(input, fn);
};

/**
 * Legacy completions (`/v1/completions`, and Copilot's inline code completions at
 * `/v1/engines/{engine}/completions`): `prompt` (a string or strings; the code before the cursor)
 * and `suffix` (the code after it).
 */
export const visitCompletions: TextVisit = (body, fn) => {
  const prompt = body['prompt'];
  if (typeof prompt === 'string' || (Array.isArray(prompt) && prompt.every((x) => typeof x === 'string'))) body['prompt'] = walkStrings(prompt, fn);
  if (typeof body['suffix'] === 'string') body['suffix'] = fn(body['suffix']) ?? body['suffix'];
};

/** The output cap a request names (`max_completion_tokens`, `max_tokens`, `max_output_tokens`). */
export function maxTokens(body: Record<string, unknown>): number | null {
  return asNumber(body['max_completion_tokens']) ?? asNumber(body['max_tokens']) ?? asNumber(body['max_output_tokens']);
}
