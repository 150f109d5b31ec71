/**
 * Token counts the core estimates itself. Admission needs a cheap upper-leaning guess (it is only a
 * reservation, settled to the provider's real count); a stream that ends without usage is charged
 * from the text seen, counted with a real BPE tokenizer (gpt-tokenizer, o200k) and marked estimated.
 */
import { countTokens } from 'gpt-tokenizer';

/**
 * Output tokens assumed at admission when the request names no maximum. A reservation only: the
 * real count replaces it on completion.
 */
export const DEFAULT_OUTPUT_TOKENS = 1024;

/**
 * A fast admission estimate from prompt characters: English averages about 4 characters per token
 * for OpenAI's and Anthropic's tokenizers; 3 leans high so reservations rarely fall short.
 */
export function estimateInputTokens(promptChars: number): number {
  return Math.ceil(promptChars / 3) + 8;
}

/** Counts tokens of text seen on the wire with a real tokenizer (completion path, not admission). */
export function countTextTokens(text: string): number {
  return text.length === 0 ? 0 : countTokens(text);
}
