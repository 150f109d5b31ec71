import { describe, expect, it } from 'vitest';
import { matchEndpoint, PROVIDER_ADAPTERS } from '../../../shared/providers/registry.js';
import { StringDecoder } from 'node:string_decoder';
import { parseEventBlock, SseParser, type SseEvent } from '../../../shared/providers/sse.js';
import type { Endpoint } from '../../../shared/providers/types.js';

function endpoint(host: string, path: string): Endpoint {
  const e = matchEndpoint(host, 'POST', path);
  if (e === null) throw new Error(`no endpoint for ${host}${path}`);
  return e;
}

describe('SSE parser', () => {
  const stream = 'event: message_start\ndata: {"a":"é€😀"}\n\n: comment\ndata: line1\ndata: line2\n\r\ndata: x\r\n\r\nevent: ping\ndata: {}\n\n';
  it('yields the same events however the bytes are split, even inside a UTF-8 character', () => {
    const whole = new SseParser().push(Buffer.from(stream));
    const bytes = Buffer.from(stream);
    for (let size = 1; size <= 9; size++) {
      const p = new SseParser();
      const events = [];
      for (let i = 0; i < bytes.length; i += size) events.push(...p.push(bytes.subarray(i, i + size)));
      expect(events).toEqual(whole);
    }
    expect(whole.map((e) => [e.event, e.data])).toEqual([
      ['message_start', '{"a":"é€😀"}'],
      [null, 'line1\nline2'],
      [null, 'x'],
      ['ping', '{}'],
    ]);
  });
  it('keeps each event raw, byte for byte', () => {
    const events = new SseParser().push(Buffer.from(stream));
    expect(events.map((e) => e.raw).join('')).toBe(stream);
  });
  it('holds an unfinished event until its blank line', () => {
    const p = new SseParser();
    expect(p.push(Buffer.from('data: {"x":1}\n'))).toEqual([]);
    expect(p.push(Buffer.from('\n'))).toHaveLength(1);
  });
  it('finds the same events as the simple whole-text scan, on random streams split anywhere', () => {
    /** The parser as it was first written: rescans all pending text on every chunk (quadratic). */
    class Reference {
      private readonly decoder = new StringDecoder('utf8');
      private pending = '';
      push(chunk: Buffer): SseEvent[] {
        const text = this.pending + this.decoder.write(chunk);
        const out: SseEvent[] = [];
        const boundary = /(?:\r\n|\n|\r(?=[^\n]))(?:\r\n|\n|\r(?=[^\n]))/g;
        let from = 0;
        let m: RegExpExecArray | null;
        while ((m = boundary.exec(text)) !== null) {
          out.push(parseEventBlock(text.slice(from, m.index), text.slice(from, m.index + m[0].length)));
          from = m.index + m[0].length;
        }
        this.pending = text.slice(from);
        return out;
      }
      rest(): string {
        return this.pending + this.decoder.end();
      }
    }
    // With CRs (the general path), and LF only (the indexOf path providers take), whose one-line
    // `data: ` blocks skip the line split.
    const pieceSets = [
      ['\r', '\n', '\r\n', 'data: x', 'data:', 'event: y', ': c', 'é', '😀', 'a', ' '],
      ['\n', '\n', 'data: ', 'data: {"a":1}', 'data:', 'event: y', ': c', 'é', '😀', 'a', ' '],
    ];
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let round = 0; round < 4000; round++) {
      const pieces = pieceSets[round % 2] as string[];
      let text = '';
      const length = 1 + random(60);
      for (let i = 0; i < length; i++) text += pieces[random(pieces.length)];
      const bytes = Buffer.from(text);
      const [a, b] = [new SseParser(), new Reference()];
      const got: SseEvent[] = [];
      const want: SseEvent[] = [];
      for (let at = 0; at < bytes.length; ) {
        const size = 1 + random(8);
        const chunk = bytes.subarray(at, at + size);
        at += size;
        got.push(...a.push(chunk));
        want.push(...b.push(chunk));
      }
      expect(got, JSON.stringify(text)).toEqual(want);
      expect(a.rest(), JSON.stringify(text)).toBe(b.rest());
    }
  });

  it('takes the CR path for the rest of a stream once a CR appears', () => {
    const p = new SseParser();
    expect(p.push(Buffer.from('data: a\n\ndata: b\r'))).toEqual([{ raw: 'data: a\n\n', event: null, data: 'a' }]);
    expect(p.push(Buffer.from('\n\r\ndata: c\n\n'))).toEqual([
      { raw: 'data: b\r\n\r\n', event: null, data: 'b' },
      { raw: 'data: c\n\n', event: null, data: 'c' },
    ]);
  });

  it('one long event in many chunks comes out whole at its blank line', () => {
    const p = new SseParser();
    const chunk = Buffer.alloc(16 * 1024, 97);
    for (let i = 0; i < 256; i++) expect(p.push(chunk)).toEqual([]);
    const events = p.push(Buffer.from('\n\n'));
    expect(events).toHaveLength(1);
    expect(events[0]?.raw.length).toBe(4 * 1024 * 1024 + 2);
  });
});

describe('provider registry', () => {
  it.each([
    ['api.openai.com', '/v1/chat/completions', 'openai', 'chat.completions'],
    ['api.openai.com', '/v1/responses', 'openai', 'responses'],
    ['api.openai.com', '/v1/embeddings', 'openai', 'embeddings'],
    ['acme.openai.azure.com', '/openai/deployments/my-gpt4o/chat/completions?api-version=2024-10-21', 'azure-openai', 'chat.completions'],
    ['api.mistral.ai', '/v1/chat/completions', 'mistral', 'chat.completions'],
    ['api.groq.com', '/openai/v1/chat/completions', 'groq', 'chat.completions'],
    ['openrouter.ai', '/api/v1/chat/completions', 'openrouter', 'chat.completions'],
    ['api.x.ai', '/v1/chat/completions', 'xai', 'chat.completions'],
    ['api.deepseek.com', '/chat/completions', 'deepseek', 'chat.completions'],
    ['api.together.xyz', '/v1/chat/completions', 'together', 'chat.completions'],
    ['api.anthropic.com', '/v1/messages', 'anthropic', 'messages'],
    ['generativelanguage.googleapis.com', '/v1beta/models/gemini-2.5-flash:generateContent', 'gemini', 'generateContent'],
    ['generativelanguage.googleapis.com', '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse', 'gemini', 'streamGenerateContent'],
    ['chatgpt.com', '/backend-api/conversation', 'openai', 'chatgpt.conversation'],
    ['claude.ai', '/api/organizations/o1/chat_conversations/c1/completion', 'anthropic', 'claude.completion'],
    ['api.githubcopilot.com', '/chat/completions', 'github-copilot', 'chat.completions'],
    ['api.githubcopilot.com', '/responses', 'github-copilot', 'responses'],
    ['api.business.githubcopilot.com', '/chat/completions', 'github-copilot', 'chat.completions'],
    ['api.enterprise.githubcopilot.com', '/chat/completions', 'github-copilot', 'chat.completions'],
    ['api.individual.githubcopilot.com', '/chat/completions', 'github-copilot', 'chat.completions'],
    ['chatgpt.com', '/backend-api/codex/responses', 'openai-codex', 'responses'],
    ['proxy.business.githubcopilot.com', '/v1/engines/gpt-41-copilot/completions', 'github-copilot', 'completions'],
    ['api.openai.com', '/v1/completions', 'openai', 'completions'],
    ['cloudcode-pa.googleapis.com', '/v1internal:generateContent', 'gemini-code-assist', 'generateContent'],
    ['cloudcode-pa.googleapis.com', '/v1internal:streamGenerateContent?alt=sse', 'gemini-code-assist', 'streamGenerateContent'],
    ['us-central1-aiplatform.googleapis.com', '/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.5-pro:generateContent', 'vertex-ai', 'generateContent'],
    ['aiplatform.googleapis.com', '/v1beta1/projects/p/locations/global/publishers/google/models/gemini-2.5-pro:streamGenerateContent?alt=sse', 'vertex-ai', 'streamGenerateContent'],
    ['us-east5-aiplatform.googleapis.com', '/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-sonnet-4@20250514:streamRawPredict', 'vertex-ai', 'streamRawPredict'],
  ])('%s%s is %s %s', (host, path, provider, api) => {
    expect(endpoint(host, path)).toMatchObject({ provider, api });
  });
  it('does not govern other calls', () => {
    expect(matchEndpoint('api.openai.com', 'GET', '/v1/models')).toBeNull();
    expect(matchEndpoint('api.anthropic.com', 'POST', '/v1/files')).toBeNull();
    expect(matchEndpoint('example.com', 'POST', '/v1/chat/completions')).toBeNull();
    // chatgpt.com is OpenAI-shaped only under the Codex prefix; Copilot only on its api hosts.
    expect(matchEndpoint('chatgpt.com', 'POST', '/backend-api/responses')).toBeNull();
    expect(matchEndpoint('telemetry.business.githubcopilot.com', 'POST', '/chat/completions')).toBeNull();
    expect(matchEndpoint('cloudcode-pa.googleapis.com', 'POST', '/v1internal:loadCodeAssist')).toBeNull();
    expect(matchEndpoint('us-central1-aiplatform.googleapis.com', 'POST', '/v1/projects/p/locations/l/publishers/google/models/m:countTokens')).toBeNull();
    expect(matchEndpoint('aiplatform.googleapis.com.evil.example', 'POST', '/v1/projects/p/locations/l/publishers/google/models/m:generateContent')).toBeNull();
  });
  it('the coding agents that sign in with the user account are marked so (no virtual key required); API hosts are not', () => {
    expect(endpoint('api.githubcopilot.com', '/chat/completions').signedIn).toBe(true);
    expect(endpoint('chatgpt.com', '/backend-api/codex/responses').signedIn).toBe(true);
    expect(endpoint('cloudcode-pa.googleapis.com', '/v1internal:generateContent').signedIn).toBe(true);
    expect(endpoint('api.openai.com', '/v1/responses').signedIn).toBeUndefined();
  });
  it('every adapter has an id', () => {
    expect(PROVIDER_ADAPTERS.map((a) => a.id)).toEqual(['openai', 'anthropic', 'gemini', 'code-assist', 'vertex', 'bedrock', 'web-apps']);
  });
});

describe('prompt extraction', () => {
  it('OpenAI chat: system, user parts, tool calls and tool results; images noted', () => {
    const e = endpoint('api.openai.com', '/v1/chat/completions');
    const p = e.adapter.parse(e, {
      model: 'gpt-4o',
      stream: true,
      max_completion_tokens: 300,
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: [{ type: 'text', text: 'what is this?' }, { type: 'image_url', image_url: { url: 'data:...' } }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 't', type: 'function', function: { name: 'f', arguments: '{"q":"x"}' } }] },
        { role: 'tool', tool_call_id: 't', content: 'tool says hi' },
      ],
    });
    expect(p).toMatchObject({ model: 'gpt-4o', stream: true, maxOutputTokens: 300, texts: ['be brief', 'what is this?', '{"q":"x"}', 'tool says hi'], notes: ['image'] });
  });

  it('rewrites the same texts in place', () => {
    const e = endpoint('api.openai.com', '/v1/chat/completions');
    const body = { model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: 'a' }] }, { role: 'user', content: 'b' }] };
    e.adapter.rewriteTexts(e, body, [null, 'B']);
    expect(body.messages[0]!.content).toEqual([{ type: 'text', text: 'a' }]);
    expect(body.messages[1]!.content).toBe('B');
  });

  it('OpenAI responses: instructions, input items, function call arguments and outputs', () => {
    const e = endpoint('api.openai.com', '/v1/responses');
    const p = e.adapter.parse(e, {
      model: 'gpt-4.1',
      instructions: 'sys',
      input: [
        { role: 'user', content: [{ type: 'input_text', text: 'hi' }, { type: 'input_image', image_url: 'x' }] },
        { type: 'function_call', call_id: 'c', name: 'f', arguments: '{"a":1}' },
        { type: 'function_call_output', call_id: 'c', output: 'result' },
      ],
      max_output_tokens: 50,
    });
    expect(p).toMatchObject({ texts: ['sys', 'hi', '{"a":1}', 'result'], notes: ['image'], maxOutputTokens: 50 });
  });

  it('Copilot inline completions: the engine names the model; the code before and after the cursor is the prompt', () => {
    const e = endpoint('proxy.individual.githubcopilot.com', '/v1/engines/gpt-41-copilot/completions');
    expect(e.adapter.parse(e, { prompt: 'def f(x):\n', suffix: '\nreturn y', max_tokens: 500, stream: true })).toMatchObject({ model: 'gpt-41-copilot', stream: true, texts: ['def f(x):\n', '\nreturn y'], maxOutputTokens: 500 });
    const reader = e.adapter.reader(e);
    expect(reader.event({ raw: '', event: null, data: JSON.stringify({ choices: [{ text: '  pass', index: 0 }] }) }).text).toBe('  pass');
  });

  it("Codex: a custom tool call's freeform input (apply_patch) is prompt text", () => {
    const e = endpoint('chatgpt.com', '/backend-api/codex/responses');
    const body = { model: 'gpt-5-codex', input: [{ type: 'custom_tool_call', call_id: 'c', name: 'apply_patch', input: 'PATCH' }, { type: 'custom_tool_call_output', call_id: 'c', output: 'ok' }] };
    expect(e.adapter.parse(e, body).texts).toEqual(['PATCH', 'ok']);
    e.adapter.rewriteTexts(e, body, ['P2', null]);
    expect(body.input[0]).toMatchObject({ input: 'P2' });
  });

  it('Code Assist: the Gemini request inside `request`, the model beside it; answers read inside `response`', () => {
    const e = endpoint('cloudcode-pa.googleapis.com', '/v1internal:streamGenerateContent');
    const body = { model: 'gemini-2.5-flash', project: 'p', request: { systemInstruction: { parts: [{ text: 'sys' }] }, contents: [{ role: 'user', parts: [{ text: 'hi' }] }], generationConfig: { maxOutputTokens: 9 } } };
    expect(e.adapter.parse(e, body)).toMatchObject({ model: 'gemini-2.5-flash', stream: true, texts: ['sys', 'hi'], maxOutputTokens: 9 });
    e.adapter.rewriteTexts(e, body, [null, 'HI']);
    expect(body.request.contents[0]?.parts[0]?.text).toBe('HI');
    const reader = e.adapter.reader(e);
    const text = reader.json({ response: { candidates: [{ content: { parts: [{ text: 'answer' }] } }], usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 2 } }, traceId: 't' });
    expect(text).toBe('answer');
    expect(reader.usage()).toEqual({ inputTokens: 5, outputTokens: 2 });
  });

  it('embeddings: every input string', () => {
    const e = endpoint('api.openai.com', '/v1/embeddings');
    expect(e.adapter.parse(e, { model: 'text-embedding-3-small', input: ['a', 'b'] }).texts).toEqual(['a', 'b']);
  });

  it('Azure: the deployment names the model when the body does not', () => {
    const e = endpoint('acme.openai.azure.com', '/openai/deployments/prod-4o/chat/completions?api-version=2024-10-21');
    expect(e.adapter.parse(e, { messages: [] }).model).toBe('prod-4o');
    expect(e.adapter.credential(e, 'k')).toEqual(['api-key', 'k']);
  });

  it('Anthropic: system blocks, text, tool_use input strings, tool_result content; images noted', () => {
    const e = endpoint('api.anthropic.com', '/v1/messages');
    const p = e.adapter.parse(e, {
      model: 'claude-sonnet-4-5',
      max_tokens: 1024,
      system: [{ type: 'text', text: 'sys' }],
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image', source: { type: 'base64', data: '...' } }] },
        { role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'run', input: { cmd: 'ls -la', opts: ['x'] } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: [{ type: 'text', text: 'out' }] }] },
      ],
    });
    expect(p).toMatchObject({ model: 'claude-sonnet-4-5', maxOutputTokens: 1024, texts: ['sys', 'look', 'ls -la', 'x', 'out'], notes: ['image'] });
  });

  it('Gemini: system instruction, parts, function calls and responses; model from the path', () => {
    const e = endpoint('generativelanguage.googleapis.com', '/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse');
    const p = e.adapter.parse(e, {
      systemInstruction: { parts: [{ text: 'sys' }] },
      contents: [
        { role: 'user', parts: [{ text: 'hi' }, { inlineData: { mimeType: 'image/png', data: '...' } }] },
        { role: 'model', parts: [{ functionCall: { name: 'f', args: { q: 'weather' } } }] },
        { role: 'user', parts: [{ functionResponse: { name: 'f', response: { temp: 'mild' } } }] },
      ],
      generationConfig: { maxOutputTokens: 77 },
    });
    expect(p).toMatchObject({ model: 'gemini-2.5-pro', stream: true, maxOutputTokens: 77, texts: ['sys', 'hi', 'weather', 'mild'], notes: ['image'] });
  });

  it('chatgpt.com: message parts', () => {
    const e = endpoint('chatgpt.com', '/backend-api/f/conversation');
    const p = e.adapter.parse(e, { action: 'next', model: 'auto', messages: [{ author: { role: 'user' }, content: { content_type: 'text', parts: ['hello there'] } }] });
    expect(p).toMatchObject({ model: 'auto', texts: ['hello there'] });
  });

  it('claude.ai: prompt and pasted attachments', () => {
    const e = endpoint('claude.ai', '/api/organizations/o/chat_conversations/c/completion');
    const p = e.adapter.parse(e, { prompt: 'summarise', attachments: [{ file_name: 'notes.txt', extracted_content: 'the notes' }], files: ['f1'] });
    expect(p).toMatchObject({ texts: ['summarise', 'the notes'], notes: ['file'] });
  });
});

describe('provider error shapes', () => {
  it('each family answers in its own shape', () => {
    const [openai, anthropic, gemini] = [endpoint('api.openai.com', '/v1/chat/completions'), endpoint('api.anthropic.com', '/v1/messages'), endpoint('generativelanguage.googleapis.com', '/v1/models/g:generateContent')];
    expect(JSON.parse(openai.adapter.error(402, 'budget_exceeded', 'm').body)).toEqual({ error: { message: 'm', type: 'insufficient_quota', code: 'budget_exceeded', param: null } });
    expect(JSON.parse(anthropic.adapter.error(429, 'rate_limited', 'm').body)).toEqual({ type: 'error', error: { type: 'rate_limit_error', message: 'm' } });
    expect(JSON.parse(gemini.adapter.error(403, 'guardrail_blocked', 'm').body)).toEqual({ error: { code: 403, message: 'm', status: 'PERMISSION_DENIED' } });
  });
});
