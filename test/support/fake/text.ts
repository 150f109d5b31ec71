/**
 * The fake providers' deterministic "model": the answer text, how it splits into stream chunks,
 * and a token count. Exported so tests can compute what a response must contain.
 */

/**
 * The answer to a prompt: the model name and the last user text, echoed. Tests that need another
 * answer set `knobs.text`.
 */
export function answerText(model: string, prompt: string): string {
  return `Echo from ${model}: ${prompt}`;
}

/**
 * Splits `text` into `count` non-empty pieces of near-equal length (fewer when the text is
 * shorter than `count`). Joining the pieces gives the text back.
 */
export function splitIntoChunks(text: string, count: number): string[] {
  const chars = Array.from(text); // code points, so a chunk never splits a surrogate pair
  const n = Math.max(1, Math.min(Math.floor(count), chars.length));
  const pieces: string[] = [];
  for (let i = 0; i < n; i++) {
    pieces.push(chars.slice(Math.floor((i * chars.length) / n), Math.floor(((i + 1) * chars.length) / n)).join(''));
  }
  return pieces.length > 0 ? pieces : [''];
}

/**
 * The fake token count of a text: one token per 4 UTF-8 bytes, rounded up (the usual rule of
 * thumb for English with BPE tokenizers). Deterministic, so usage assertions are exact.
 */
export function fakeTokenCount(text: string): number {
  return Math.ceil(Buffer.byteLength(text, 'utf8') / 4);
}

/** Collects the text of a content value: a string, or an array of parts carrying `text`. */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part: unknown) =>
      part !== null && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string'
        ? (part as { text: string }).text
        : '',
    )
    .filter((text) => text.length > 0)
    .join('\n');
}

/** A JSON-schema-like `properties` map, as tool definitions carry it. */
export type SchemaProperties = Readonly<Record<string, { readonly type?: unknown }>> | undefined;

/**
 * The arguments a fake tool call passes: every schema property filled in, strings with the
 * prompt, numbers with 1, booleans with true. Deterministic, so tests can assert them.
 */
export function fakeToolArguments(properties: SchemaProperties, prompt: string): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(properties ?? {})) {
    input[name] = schema.type === 'number' || schema.type === 'integer' ? 1 : schema.type === 'boolean' ? true : prompt;
  }
  return input;
}
