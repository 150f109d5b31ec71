import { describe, expect, it } from 'vitest';
import { spliceStringMember } from '../../../shared/providers/json-splice.js';
import { chatReader } from '../../../shared/providers/openai/response.js';
import type { SseEvent } from '../../../shared/providers/sse.js';

const chunk = (content: string) => JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content }, finish_reason: null }] });

describe('splicing a string member into raw event JSON', () => {
  it('gives exactly what re-serialising the parsed event gives', () => {
    const data = chunk('call me at 415 "555" 0100\u00e9');
    const parsed = JSON.parse(data) as { choices: Array<{ delta: { content: string } }> };
    parsed.choices[0]!.delta.content = 'call me at [REDACTED:phone]';
    expect(spliceStringMember(data, 'content', 'call me at 415 "555" 0100\u00e9', 'call me at [REDACTED:phone]')).toBe(JSON.stringify(parsed));
  });

  it('declines when the pair is missing (other escaping or spacing), repeated, or the data spans lines', () => {
    expect(spliceStringMember('{"content": "a"}', 'content', 'a', 'b')).toBeNull();
    expect(spliceStringMember('{"content":"\\u0061"}', 'content', 'a', 'b')).toBeNull();
    expect(spliceStringMember('{"x":{"content":"a"},"y":{"content":"a"}}', 'content', 'a', 'b')).toBeNull();
    expect(spliceStringMember('{"content":\n"a"}', 'content', 'a', 'b')).toBeNull();
  });

  it('the chat reader rewrites a delta the same way on either path', () => {
    const r = chatReader();
    const spaced: SseEvent = { event: null, data: JSON.stringify(JSON.parse(chunk('hi 123')), null, 1).replace(/\n/g, ' '), raw: '' };
    const compact: SseEvent = { event: null, data: chunk('hi 123'), raw: '' };
    r.event(compact);
    const fast = r.withText(compact, 'hi ');
    r.event(spaced);
    const slow = r.withText(spaced, 'hi ');
    expect(fast).toBe(slow);
    expect(fast).toBe(`data: ${chunk('hi ')}\n\n`);
  });
});
