/**
 * Token counts the core estimates itself. Admission needs a cheap upper-leaning guess (it is only a
 * reservation, settled to the provider's real count); a stream that ends without usage is charged
 * from the text seen, counted with a real BPE tokenizer (gpt-tokenizer, o200k) and marked estimated.
 *
 * The tokenizer's tables weigh about 55 MB of memory and a quarter of a second to load, and are
 * needed only when a response ends without usage (a broken stream, a compressed body): providers
 * report usage otherwise, and the agent asks OpenAI chat streams for it. So they are loaded on first
 * need, in the background; until they are in, counts use the characters (about 4 per token). A broken
 * stream, where no client waits for the record, waits for the tokenizer instead (agent/pipeline/gate-tap.ts).
 */

/**
 * Output tokens assumed at admission when the request names no maximum. A reservation only: the
 * real count replaces it on completion.
 */
export const DEFAULT_OUTPUT_TOKENS = 1024;

/** English averages about 4 characters per token for OpenAI's and Anthropic's tokenizers. */
const CHARS_PER_TOKEN = 4;

let countTokens: ((text: string) => number) | null = null;
let loading: Promise<void> | null = null;

/**
 * A fast admission estimate from prompt characters: English averages about 4 characters per token
 * for OpenAI's and Anthropic's tokenizers; 3 leans high so reservations rarely fall short.
 */
export function estimateInputTokens(promptChars: number): number {
  return Math.ceil(promptChars / 3) + 8;
}

/**
 * Loads the tokenizer (once); resolves when `countTextTokens` uses it. Called on first need; the
 * composition root or a test may call it ahead.
 */
export function loadTokenizer(): Promise<void> {
  loading ??= import('gpt-tokenizer').then(
    (m) => {
      countTokens = m.countTokens;
    },
    () => {
      // Not installed or unreadable: counts stay on characters; a later need tries again.
      loading = null;
    },
  );
  return loading;
}

/** True once the BPE tokenizer is loaded (`countTextTokens` then counts for real). */
export function tokenizerLoaded(): boolean {
  return countTokens !== null;
}

/**
 * Counts tokens of text seen on the wire (completion path, not admission): with the BPE tokenizer
 * once loaded, from characters before (and starts the load).
 */
export function countTextTokens(text: string): number {
  if (text.length === 0) return 0;
  if (countTokens !== null) return countTokens(text);
  void loadTokenizer();
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}
