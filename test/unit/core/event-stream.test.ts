/** Bedrock's binary event stream, parsed incrementally (shared/providers/bedrock/event-stream.ts). */
import { describe, expect, it } from 'vitest';
import { EventStreamParser } from '../../../shared/providers/bedrock/event-stream.js';
import { matchEndpoint } from '../../../shared/providers/registry.js';
import { eventMessage } from '../../support/fake/bedrock-api.js';

const stream = Buffer.concat([
  eventMessage('messageStart', { role: 'assistant' }),
  eventMessage('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'héllo ' } }),
  eventMessage('chunk', { bytes: Buffer.from(JSON.stringify({ type: 'content_block_delta', delta: { type: 'text_delta', text: 'wörld' } })).toString('base64') }),
  eventMessage('metadata', { usage: { inputTokens: 7, outputTokens: 3 } }),
]);

describe('event stream parser', () => {
  it('yields the same events however the bytes are split (every split point of the stream)', () => {
    const whole = new EventStreamParser().push(stream);
    expect(whole.map((e) => e.event)).toEqual(['messageStart', 'contentBlockDelta', 'content_block_delta', 'metadata']);
    expect(JSON.parse(whole[2]?.data ?? '')).toMatchObject({ delta: { text: 'wörld' } });
    for (let at = 1; at < stream.length; at++) {
      const p = new EventStreamParser();
      const events = [...p.push(stream.subarray(0, at)), ...p.push(stream.subarray(at))];
      expect(events).toEqual(whole);
    }
  });

  it('one byte at a time', () => {
    const p = new EventStreamParser();
    const events = [];
    for (let i = 0; i < stream.length; i++) events.push(...p.push(stream.subarray(i, i + 1)));
    expect(events.map((e) => e.event)).toEqual(['messageStart', 'contentBlockDelta', 'content_block_delta', 'metadata']);
  });

  it('a corrupted message fails its CRC check instead of being read', () => {
    const bad = Buffer.from(stream);
    bad[30] = (bad[30] ?? 0) ^ 0xff;
    expect(() => new EventStreamParser().push(bad)).toThrow();
  });

  it('bytes that are not an event stream are refused, not buffered without end', () => {
    expect(() => new EventStreamParser().push(Buffer.from('{"message":"not a stream"}'))).toThrow(/not an event stream/);
  });

  it('reads usage and text through the Bedrock adapter', () => {
    const e = matchEndpoint('bedrock-runtime.us-east-1.amazonaws.com', 'POST', '/model/us.amazon.nova-pro-v1%3A0/converse-stream');
    if (e === null) throw new Error('no endpoint');
    expect(e).toMatchObject({ provider: 'bedrock', api: 'converse-stream', pathModel: 'us.amazon.nova-pro-v1:0', pathStream: true, signed: true });
    const reader = e.adapter.reader(e);
    const parser = e.adapter.streamParser?.(e, 'application/vnd.amazon.eventstream');
    const texts = (parser?.push(stream) ?? []).map((ev) => reader.event(ev).text).filter((t) => t !== null);
    expect(texts).toEqual(['héllo ']);
    expect(reader.usage()).toEqual({ inputTokens: 7, outputTokens: 3 });
  });

  it('Converse request text: system, text blocks, tool inputs and results; images noted', () => {
    const e = matchEndpoint('bedrock-runtime.eu-central-1.amazonaws.com', 'POST', '/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse');
    if (e === null) throw new Error('no endpoint');
    const body = {
      system: [{ text: 'sys' }],
      messages: [
        { role: 'user', content: [{ text: 'hi' }, { image: { format: 'png', source: { bytes: 'AAAA' } } }] },
        { role: 'assistant', content: [{ toolUse: { toolUseId: 't', name: 'f', input: { q: 'query' } } }] },
        { role: 'user', content: [{ toolResult: { toolUseId: 't', content: [{ text: 'result' }, { json: { k: 'v' } }] } }] },
      ],
      inferenceConfig: { maxTokens: 99 },
    };
    expect(e.adapter.parse(e, body)).toMatchObject({ model: 'anthropic.claude-3-haiku-20240307-v1:0', texts: ['sys', 'hi', 'query', 'result', 'v'], notes: ['image'], maxOutputTokens: 99 });
  });
});
