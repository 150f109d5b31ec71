import { countTokens } from 'gpt-tokenizer';
import { describe, expect, it } from 'vitest';
import { admit, asForward, asRespond, gateWith, openAiSse, pump, request } from './gate-helpers.js';
import { ALNUM, rand } from './samples.js';

const OPENAI = 'api.openai.com';
const CHAT = '/v1/chat/completions';
const chat = (content: string, extra: object = {}) => ({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }], ...extra });

const keys = {
  virtualKeys: [{ id: 'vk-eng', key: 'ovk-eng-4f9c2a7e1b', owner: 'team:engineering' as const, providerKeys: { openai: 'keychain:openai-eng', anthropic: 'keychain:anthropic-eng', gemini: 'keychain:gemini-eng' } }],
  guardrails: [
    { id: 'secrets', type: 'secrets' as const, action: 'block' as const },
    { id: 'pii', type: 'pii' as const, on: ['input' as const, 'output' as const], action: 'redact' as const },
  ],
};
const stored = { 'keychain:openai-eng': 'sk-real-openai', 'keychain:anthropic-eng': 'sk-ant-real', 'keychain:gemini-eng': 'AIza-real' };

describe('gate: admission', () => {
  it('blocks a prompt carrying a secret, in OpenAI error shape, and audits it without the secret', async () => {
    const { gate, audit } = gateWith(keys);
    const secret = `AKIA${rand('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16)}`;
    const r = asRespond(await admit(gate, request(OPENAI, CHAT, chat(`deploy with ${secret}`))));
    expect(r.status).toBe(403);
    expect(r.headers['x-outpost-decision']).toBe('block; code=guardrail_blocked; rules=secrets');
    const body = JSON.parse(r.body) as { error: { message: string; code: string; param: null; type: string } };
    expect(body.error.code).toBe('guardrail_blocked');
    expect(body.error.message).toContain('AWS access key ID');
    expect(r.body).not.toContain(secret);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ decision: 'block', status: 403, provider: 'openai', endpoint: 'chat.completions', model: 'gpt-4o-mini', principal: 'user:jane@acme.example' });
    expect(JSON.stringify(audit[0])).not.toContain(secret);
    expect(audit[0]?.prompt).toContain('[REDACTED:aws-access-key-id]');
  });

  it('swaps a virtual key for the provider key; the virtual key goes nowhere upstream', async () => {
    const { gate } = gateWith(keys, stored);
    const f = asForward(await admit(gate, request(OPENAI, CHAT, chat('hi'), { authorization: 'Bearer ovk-eng-4f9c2a7e1b' })));
    expect(f.headers['authorization']).toBe('Bearer sk-real-openai');
    expect(JSON.stringify(f.headers)).not.toContain('ovk-');
    expect(f.decision).toBe('allow');
  });

  it('swaps Gemini keys given as ?key= into x-goog-api-key and drops the query key', async () => {
    const { gate } = gateWith(keys, stored);
    const path = '/v1beta/models/gemini-2.5-flash:streamGenerateContent?key=ovk-eng-4f9c2a7e1b&alt=sse';
    const f = asForward(await admit(gate, request('generativelanguage.googleapis.com', path, { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] })));
    expect(f.path).toBe('/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
    expect(f.headers['x-goog-api-key']).toBe('AIza-real');
  });

  it('x-outpost-vk identifies the principal and is stripped', async () => {
    const { gate, audit } = gateWith(keys, stored);
    const f = asForward(await admit(gate, request('api.anthropic.com', '/v1/messages', { model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }, { 'x-outpost-vk': 'ovk-eng-4f9c2a7e1b', 'x-api-key': 'sk-ant-user-own' })));
    expect(f.headers['x-outpost-vk']).toBeUndefined();
    expect(f.headers['x-api-key']).toBe('sk-ant-real');
    pump(f, 200, 'application/json', JSON.stringify({ type: 'message', content: [{ type: 'text', text: 'ok' }], usage: { input_tokens: 5, output_tokens: 1 } }));
    expect(audit[0]?.principal).toBe('vk:vk-eng');
  });

  it('an unknown virtual key gets 401 in Anthropic shape', async () => {
    const { gate } = gateWith(keys, stored);
    const r = asRespond(await admit(gate, request('api.anthropic.com', '/v1/messages', { model: 'claude-sonnet-4-5', max_tokens: 10, messages: [] }, { 'x-api-key': 'ovk-nope-nope-nope' })));
    expect(r.status).toBe(401);
    expect(JSON.parse(r.body)).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
  });

  it('a missing keychain entry answers how to store it', async () => {
    const { gate } = gateWith(keys, {});
    const r = asRespond(await admit(gate, request(OPENAI, CHAT, chat('hi'), { authorization: 'Bearer ovk-eng-4f9c2a7e1b' })));
    expect(r.status).toBe(403);
    expect(r.body).toContain('outpost secret set openai-eng');
  });

  it('redacts personal data in the forwarded body', async () => {
    const { gate } = gateWith(keys);
    const f = asForward(await admit(gate, request(OPENAI, CHAT, chat('mail jane@acme.example about it'))));
    expect(JSON.parse(f.body.toString()).messages[0].content).toBe('mail [REDACTED:email] about it');
    expect(f.decision).toBe('redact; rules=pii');
  });

  it('rate limits answer 429 with Retry-After in Gemini shape', async () => {
    const { gate } = gateWith({ defaults: { rateLimit: { requestsPerMinute: 1 } } });
    const path = '/v1beta/models/gemini-2.5-flash:generateContent';
    const body = { contents: [{ parts: [{ text: 'hi' }] }] };
    asForward(await admit(gate, request('generativelanguage.googleapis.com', path, body)));
    const r = asRespond(await admit(gate, request('generativelanguage.googleapis.com', path, body)));
    expect(r.status).toBe(429);
    expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
    expect(JSON.parse(r.body)).toMatchObject({ error: { code: 429, status: 'RESOURCE_EXHAUSTED' } });
  });

  it('an exhausted budget answers 402 budget_exceeded', async () => {
    const { gate } = gateWith({ defaults: { budget: { limitUsd: 0.0001, period: '1d' } } });
    const r = asRespond(await admit(gate, request(OPENAI, CHAT, chat('hi', { max_tokens: 1000 }))));
    expect(r.status).toBe(402);
    expect(JSON.parse(r.body)).toMatchObject({ error: { code: 'budget_exceeded' } });
  });

  it('answers a body over the bound in the provider shape and records it', async () => {
    const { gate, audit } = gateWith(keys);
    const { body: _b, ...head } = request('api.anthropic.com', '/v1/messages', {});
    const r = gate.tooLarge(head, 1024);
    expect(r.status).toBe(413);
    expect(JSON.parse(r.body)).toMatchObject({ type: 'error', error: { type: 'request_too_large' } });
    expect(audit[0]).toMatchObject({ decision: 'block', status: 413, provider: 'anthropic' });
  });

  it('passes a non-AI call on a governed host untouched', async () => {
    const { gate } = gateWith(keys);
    const req = { ...request(OPENAI, '/v1/models', ''), method: 'GET' };
    const f = asForward(await admit(gate, req));
    expect(f.tap).toBeNull();
  });
});

describe('gate: response tap', () => {
  it('asks for streaming usage, strips that chunk from the client, and charges the reported usage', async () => {
    const { gate, audit } = gateWith({});
    const f = asForward(await admit(gate, request(OPENAI, CHAT, chat('hi', { stream: true }))));
    expect(JSON.parse(f.body.toString()).stream_options).toEqual({ include_usage: true });
    const { client } = pump(f, 200, 'text/event-stream', openAiSse(['Hel', 'lo'], { prompt: 1000, completion: 500, cached: 200 }));
    expect(client).not.toContain('"usage":{');
    expect(client).toContain('"content":"Hel"');
    expect(client.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(audit[0]).toMatchObject({ inputTokens: 1000, outputTokens: 500, cachedTokens: 200, tokensEstimated: false, stream: true, status: 200 });
    expect(audit[0]?.costUsd).toBeCloseTo((800 * 0.15 + 200 * 0.075 + 500 * 0.6) / 1e6, 9);
    expect(audit[0]?.priceVersion).toMatch(/^@pydantic\/genai-prices@\d/);
  });

  it('leaves a stream the client asked usage for byte for byte', async () => {
    const { gate } = gateWith({});
    const f = asForward(await admit(gate, request(OPENAI, CHAT, chat('hi', { stream: true, stream_options: { include_usage: true } }))));
    const sse = openAiSse(['a', 'b'], { prompt: 3, completion: 2 });
    expect(pump(f, 200, 'text/event-stream', sse).client).toBe(sse);
  });

  it('charges a stream that ends without usage from the text seen, marked estimated', async () => {
    const { gate, audit } = gateWith({});
    const f = asForward(await admit(gate, request(OPENAI, CHAT, chat('tell me a story', { stream: true }))));
    const tap = f.tap!;
    tap.head(200, { 'content-type': 'text/event-stream' });
    tap.chunk(Buffer.from(openAiSse(['Once upon a time, ', 'there was a gateway.']).split('data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{},"finish_reason":"stop"')[0]!));
    tap.fail(new Error('socket closed'), 'client');
    // No client waits for a broken stream's record: it may wait for the tokenizer to load.
    await expect.poll(() => audit.length).toBe(1);
    expect(audit[0]).toMatchObject({ tokensEstimated: true });
    expect(audit[0]?.outputTokens).toBe(countTokens('Once upon a time, there was a gateway.'));
    expect(audit[0]?.inputTokens).toBeGreaterThan(0);
    expect(audit[0]?.costUsd).toBeGreaterThan(0);
    expect(audit[0]?.error).toMatch(/client went away/);
  });

  it('reads Anthropic usage: input and cache from message_start, cumulative output from message_delta', async () => {
    const { gate, audit } = gateWith({});
    const f = asForward(await admit(gate, request('api.anthropic.com', '/v1/messages', { model: 'claude-sonnet-4-5', max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'hi' }] })));
    const ev = (name: string, data: object) => `event: ${name}\ndata: ${JSON.stringify({ type: name, ...data })}\n\n`;
    const sse =
      ev('message_start', { message: { id: 'm', type: 'message', role: 'assistant', content: [], model: 'claude-sonnet-4-5', usage: { input_tokens: 10, cache_creation_input_tokens: 20, cache_read_input_tokens: 30, output_tokens: 1 } } }) +
      ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }) +
      ev('ping', {}) +
      ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Hi there' } }) +
      ev('content_block_stop', { index: 0 }) +
      ev('message_delta', { delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 42 } }) +
      ev('message_stop', {});
    const { client } = pump(f, 200, 'text/event-stream', sse);
    expect(client).toBe(sse);
    expect(audit[0]).toMatchObject({ inputTokens: 60, outputTokens: 42, cachedTokens: 30, tokensEstimated: false });
    expect(audit[0]?.costUsd).toBeGreaterThan(0);
  });

  it('reads Gemini usageMetadata from the last stream event', async () => {
    const { gate, audit } = gateWith({});
    const f = asForward(await admit(gate, request('generativelanguage.googleapis.com', '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse', { contents: [{ parts: [{ text: 'hi' }] }] })));
    const ev = (text: string, usage: object) => `data: ${JSON.stringify({ candidates: [{ content: { role: 'model', parts: [{ text }] } }], usageMetadata: usage })}\r\n\r\n`;
    pump(f, 200, 'text/event-stream', ev('Hel', { promptTokenCount: 7, candidatesTokenCount: 1 }) + ev('lo', { promptTokenCount: 7, candidatesTokenCount: 3, thoughtsTokenCount: 4 }));
    expect(audit[0]).toMatchObject({ inputTokens: 7, outputTokens: 7, tokensEstimated: false, model: 'gemini-2.5-flash' });
  });

  it('redacts output PII split across SSE events and chunk boundaries', async () => {
    const { gate, audit } = gateWith(keys);
    for (const sizes of [[1], [5, 17], [64]]) {
      const f = asForward(await admit(gate, request(OPENAI, CHAT, chat('hi', { stream: true }))));
      const { client } = pump(f, 200, 'text/event-stream', openAiSse(['Call me at (41', '5) 555-0', '100 today, or mail jane', '@acme.example.'], { prompt: 3, completion: 9 }), sizes);
      const text = client
        .split('\n\n')
        .filter((e) => e.startsWith('data: {'))
        .map((e) => JSON.parse(e.slice(6)) as { choices: Array<{ delta: { content?: string } }> })
        .map((o) => o.choices[0]?.delta.content ?? '')
        .join('');
      expect(text).toBe('Call me at [REDACTED:phone] today, or mail [REDACTED:email].');
      expect(client).not.toContain('555-0');
      expect(client).not.toContain('"usage":{');
    }
    expect(audit.every((e) => e.decision === 'redact')).toBe(true);
  });

  it('blocks output with a final error event and stops the stream', async () => {
    const { gate, audit } = gateWith({ guardrails: [{ id: 'no-ssn', type: 'pii', entities: ['us_ssn'], on: ['output'], action: 'block', message: 'Outpost: the answer contained an SSN.' }] });
    const f = asForward(await admit(gate, request(OPENAI, CHAT, chat('hi', { stream: true }))));
    const { client, stopped } = pump(f, 200, 'text/event-stream', openAiSse(['your number is 123-', '45-6789 ok', ' and more text after it'], { prompt: 1, completion: 1 }));
    expect(stopped).toBe(true);
    expect(client).not.toContain('6789');
    const last = client.trim().split('\n\n').pop()!;
    expect(JSON.parse(last.slice(6))).toMatchObject({ error: { message: 'Outpost: the answer contained an SSN.', code: 'guardrail_blocked' } });
    expect(audit[0]).toMatchObject({ decision: 'block' });
  });

  it('redacts a JSON (non-stream) answer before the client sees it', async () => {
    const { gate } = gateWith(keys);
    const f = asForward(await admit(gate, request(OPENAI, CHAT, chat('hi'))));
    const body = JSON.stringify({ id: 'c', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'mail jane@acme.example' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 2 } });
    expect(JSON.parse(pump(f, 200, 'application/json', body).client).choices[0].message.content).toBe('mail [REDACTED:email]');
  });

  it('an upstream failure before any byte releases the reservation', async () => {
    const { gate, audit } = gateWith({ defaults: { budget: { limitUsd: 0.001, period: '1d' } } });
    const body = chat('hi', { max_tokens: 1000 });
    const f = asForward(await admit(gate, request(OPENAI, CHAT, body)));
    // The reservation holds most of the budget: a second request does not fit.
    expect((await admit(gate, request(OPENAI, CHAT, body))).kind).toBe('respond');
    f.tap!.fail(new Error('ECONNRESET'), 'upstream');
    expect(audit.at(-1)).toMatchObject({ costUsd: null, error: expect.stringMatching(/upstream failed/) });
    expect((await admit(gate, request(OPENAI, CHAT, body))).kind).toBe('forward');
  });
});

describe('gate: secrets in the audit record', () => {
  it('never stores a finding, even for a warn rule', async () => {
    const { gate, audit } = gateWith({ guardrails: [{ id: 'sec-warn', type: 'secrets', action: 'warn' }] });
    const key = `ghp_${rand(ALNUM, 36)}`;
    const f = asForward(await admit(gate, request(OPENAI, CHAT, chat(`token ${key}`))));
    expect(f.decision).toBe('warn; rules=sec-warn');
    pump(f, 200, 'application/json', JSON.stringify({ choices: [{ message: { content: 'ok' } }], usage: { prompt_tokens: 1, completion_tokens: 1 } }));
    expect(JSON.stringify(audit)).not.toContain(key);
  });
});

describe('gate: calls that are not governed AI calls', () => {
  const get = (path: string, headers: Record<string, string>) => ({ ...request(OPENAI, path, '', headers), method: 'GET', body: Buffer.alloc(0) });

  it('swaps a virtual key on a model list too, so it never reaches the provider', async () => {
    const { gate } = gateWith(keys, stored);
    const f = asForward(await admit(gate, get('/v1/models', { authorization: 'Bearer ovk-eng-4f9c2a7e1b' })));
    expect(f.headers['authorization']).toBe('Bearer sk-real-openai');
    expect(f.tap).toBeNull();
  });

  it('refuses an unknown virtual key instead of forwarding it', async () => {
    const { gate } = gateWith(keys, stored);
    const r = asRespond(await admit(gate, get('/v1/models', { authorization: 'Bearer ovk-typo-typo-typo' })));
    expect(r.status).toBe(401);
  });

  it('passes a provider key through untouched', async () => {
    const { gate } = gateWith(keys, stored);
    const f = asForward(await admit(gate, get('/v1/models', { authorization: 'Bearer sk-user-own' })));
    expect(f.headers['authorization']).toBe('Bearer sk-user-own');
  });
});

describe('gate: responses the tap cannot read', () => {
  it('passes a compressed body through untouched and charges an estimate', async () => {
    const { gate, audit } = gateWith(keys);
    const f = asForward(await admit(gate, request(OPENAI, CHAT, chat('hi', { stream: true }))));
    const tap = f.tap!;
    expect(tap.head(200, { 'content-type': 'text/event-stream', 'content-encoding': 'gzip' })).toBe(false);
    const bytes = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0xff, 0xfe]);
    expect(tap.chunk(bytes)).toBe(bytes);
    expect(tap.end()).toBeNull();
    expect(audit[0]).toMatchObject({ tokensEstimated: true });
  });
});

describe('gate: a JSON answer too large to hold', () => {
  it('is passed on whole, unchecked, and says so in the record', async () => {
    const { gate, audit } = gateWith(keys);
    const f = asForward(await admit(gate, request(OPENAI, CHAT, chat('hi'))));
    const body = JSON.stringify({ choices: [{ message: { content: 'x'.repeat(9 * 1024 * 1024) } }] });
    const { client } = pump(f, 200, 'application/json', body, [1024 * 1024]);
    expect(client.length).toBe(body.length);
    expect(client === body).toBe(true);
    expect(audit[0]?.rules).toContainEqual(expect.objectContaining({ id: 'output-guardrails', kind: 'not-checked' }));
  });
});
