import { countTokens } from 'gpt-tokenizer';
import { describe, expect, it } from 'vitest';
import { tokenizerLoaded } from '../../../shared/core/tokens.js';
import { admit, asForward, gateWith, openAiSse, request } from './gate-helpers.js';

describe('a broken stream is charged with the real tokenizer, even before it is loaded', () => {
  it('waits for the tokenizer instead of counting characters', async () => {
    expect(tokenizerLoaded()).toBe(false); // a fresh process: the tables are loaded on first need
    const { gate, audit } = gateWith({});
    const body = { model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'tell me about tokenizers' }] };
    const f = asForward(await admit(gate, request('api.openai.com', '/v1/chat/completions', body)));
    const text = 'Tokenization splits text into subword units; ünïcödé and 12345 count differently.';
    const tap = f.tap!;
    tap.head(200, { 'content-type': 'text/event-stream' });
    // The deltas, without the final chunk or any usage: the upstream broke mid-stream.
    tap.chunk(Buffer.from(openAiSse([text.slice(0, 30), text.slice(30)]).split('"finish_reason":"stop"')[0]!.replace(/data: [^\n]*$/, '')));
    tap.fail(new Error('ECONNRESET'), 'upstream');
    expect(audit).toEqual([]); // not yet: the tokenizer loads first
    await expect.poll(() => audit.length).toBe(1);
    expect(tokenizerLoaded()).toBe(true);
    expect(audit[0]).toMatchObject({ tokensEstimated: true, outputTokens: countTokens(text), decision: 'allow' });
    expect(audit[0]?.outputTokens).not.toBe(Math.ceil(text.length / 4));
    expect(audit[0]?.error).toMatch(/upstream failed: ECONNRESET/);
  });
});
