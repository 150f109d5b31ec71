/**
 * OpenAI `POST /v1/embeddings`. The vectors are deterministic (seeded by the input text), and
 * `encoding_format: "base64"` (what the official SDK asks for by default) returns little-endian
 * float32 bytes in base64, as the API does.
 */
import { createHash } from 'node:crypto';
import { openaiHeaders } from './openai-common.js';
import { sendJson } from './respond.js';
import { fakeTokenCount } from './text.js';
import type { Exchange } from './types.js';

/** Native dimensions of the embedding models (the API reference's model table). */
const DIMENSIONS: Readonly<Record<string, number>> = {
  'text-embedding-3-large': 3072,
  'text-embedding-3-small': 1536,
  'text-embedding-ada-002': 1536,
};

/** A unit-length vector derived from the text, so equal inputs embed equally. */
export function fakeEmbedding(text: string, dimensions: number): Float32Array {
  const vector = new Float32Array(dimensions);
  let block = Buffer.alloc(0);
  for (let i = 0; i < dimensions; i++) {
    if (i % 8 === 0) block = createHash('sha256').update(`${text}\u0000${i / 8}`).digest();
    vector[i] = block.readInt32LE((i % 8) * 4) / 2 ** 31;
  }
  const norm = Math.hypot(...vector) || 1;
  for (let i = 0; i < dimensions; i++) vector[i] = (vector[i] ?? 0) / norm;
  return vector;
}

function inputsOf(input: unknown): string[] {
  if (typeof input === 'string') return [input];
  if (!Array.isArray(input)) return [];
  // Token arrays (number[] or number[][]) are embedded by their JSON text.
  if (input.every((item) => typeof item === 'number')) return [JSON.stringify(input)];
  return input.map((item) => (typeof item === 'string' ? item : JSON.stringify(item)));
}

/** Handles an embeddings request. */
export function handleEmbeddings(exchange: Exchange): void {
  const { body } = exchange;
  const model = typeof body.model === 'string' ? body.model : 'text-embedding-3-small';
  const dimensions = typeof body.dimensions === 'number' ? body.dimensions : (DIMENSIONS[model] ?? 1536);
  const base64 = body.encoding_format === 'base64';
  const inputs = inputsOf(body.input);
  const tokens = inputs.reduce((sum, text) => sum + fakeTokenCount(text), 0);
  sendJson(exchange, 200, openaiHeaders('application/json'), {
    object: 'list',
    data: inputs.map((text, index) => {
      const vector = fakeEmbedding(text, dimensions);
      return {
        object: 'embedding',
        index,
        embedding: base64 ? Buffer.from(vector.buffer).toString('base64') : Array.from(vector),
      };
    }),
    model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  });
}
