/**
 * Coding agents on their own backends, through the whole agent: GitHub Copilot (the OpenAI SDK at
 * `https://api.githubcopilot.com` with Copilot's headers, and a business plan host), Codex signed
 * in with ChatGPT (the exact request Codex sends to `chatgpt.com/backend-api/codex/responses`) and
 * Gemini CLI signed in with Google (the wrapped `v1internal:streamGenerateContent` request). Each is
 * governed: input and output guardrails, usage and cost from the answer, one audit record naming
 * the backend. They sign in with the user's account, so a policy that requires virtual keys still
 * lets them through.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestAgent, type TestAgent } from '../support/agent.js';
import { fetchFor, openAiClient, type ClientHandle } from '../support/clients.js';
import { collectSse, sseJson } from '../support/sse.js';
import { DEFAULT_AI_HOSTS } from '../../shared/policy/default-policy.js';
import type { PolicyInput } from '../../shared/schema/policy.js';
import type { AuditRecord } from '../../shared/schema/audit.js';

/** The default hosts, guardrails as the default policy has them, and virtual keys required. */
const policy: PolicyInput = {
  version: 1,
  name: 'coding-agents',
  interception: { hosts: [...DEFAULT_AI_HOSTS] },
  defaults: { requireVirtualKey: true },
  guardrails: [
    { id: 'secrets', type: 'secrets', on: ['input'], action: 'block' },
    { id: 'pii', type: 'pii', entities: ['email'], on: ['input', 'output'], action: 'redact' },
  ],
  audit: { recordPrompts: 'redacted', retentionDays: 30 },
};

/** Headers VS Code's Copilot Chat sends with each chat request. */
const COPILOT_HEADERS = {
  'editor-version': 'vscode/1.99.3',
  'editor-plugin-version': 'copilot-chat/0.26.7',
  'copilot-integration-id': 'vscode-chat',
  'openai-intent': 'conversation-panel',
  'x-github-api-version': '2025-04-01',
};
const COPILOT_TOKEN = 'tid=0123456789abcdef;exp=1893456000;sku=copilot_for_business_seat;proxy-ep=proxy.business.githubcopilot.com;8kp=1:0f0e0d';

describe('coding agents on their own backends, through the whole agent', () => {
  let t: TestAgent;
  const handles: Array<ClientHandle<unknown>> = [];
  const recordsAfter = (seq: number): AuditRecord[] => {
    t.agent.store.audit.flushNow();
    return t.agent.store.audit.recordsAfter(seq);
  };
  const lastSeq = (): number => recordsAfter(0).at(-1)?.seq ?? 0;
  const copilot = (host: string): OpenAI => {
    const h = openAiClient({ proxyUrl: t.proxyUrl, ca: t.caPem, apiKey: COPILOT_TOKEN, baseURL: `https://${host}`, maxRetries: 0, defaultHeaders: COPILOT_HEADERS });
    handles.push(h);
    return h.client;
  };
  const fetchThrough = (): typeof globalThis.fetch => {
    const h = fetchFor({ proxyUrl: t.proxyUrl, ca: t.caPem });
    handles.push(h);
    return h.client;
  };

  beforeAll(async () => {
    t = await startTestAgent({ policy });
  });
  beforeEach(() => t.provider.reset());
  afterAll(async () => {
    await Promise.all(handles.map((h) => h.close()));
    await t?.close();
  });

  describe('GitHub Copilot', () => {
    it('streamed chat at /chat/completions (no /v1): passed on, usage asked for and read, priced, audited as github-copilot', async () => {
      const from = lastSeq();
      const stream = await copilot('api.githubcopilot.com').chat.completions.create({ model: 'gpt-4.1', stream: true, messages: [{ role: 'system', content: 'You are a coding assistant.' }, { role: 'user', content: 'explain this diff' }] });
      let text = '';
      let sawUsage = false;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta?.content ?? '';
        if (chunk.usage) sawUsage = true;
      }
      expect(text).toContain('Echo from gpt-4.1: explain this diff');
      // The agent asked for the usage chunk and, since the client had not, kept it from the client.
      expect(sawUsage).toBe(false);
      const seen = t.provider.requests.at(-1);
      expect(seen).toMatchObject({ host: 'api.githubcopilot.com', path: '/chat/completions' });
      expect(seen?.headers.authorization).toBe(`Bearer ${COPILOT_TOKEN}`);
      expect(seen?.headers['copilot-integration-id']).toBe('vscode-chat');
      expect((seen?.json as { stream_options?: unknown }).stream_options).toEqual({ include_usage: true });

      const [record] = recordsAfter(from);
      expect(record).toMatchObject({ host: 'api.githubcopilot.com', provider: 'github-copilot', endpoint: 'chat.completions', model: 'gpt-4.1', stream: true, decision: 'allow', tokensEstimated: false });
      expect(record?.inputTokens).toBeGreaterThan(0);
      expect(record?.outputTokens).toBeGreaterThan(0);
      expect(record?.costUsd).toBeGreaterThan(0);
    });

    it('a business plan host (api.business.githubcopilot.com): a prompt with an e-mail address is redacted before it leaves', async () => {
      const from = lastSeq();
      const r = await copilot('api.business.githubcopilot.com').chat.completions.create({ model: 'claude-sonnet-4', messages: [{ role: 'user', content: 'mail jane.doe@acme.example the fix' }] });
      expect(r.choices[0]?.message.content).toContain('Echo from claude-sonnet-4');
      expect(JSON.stringify(t.provider.requests.at(-1)?.json)).not.toContain('jane.doe@acme.example');
      expect(recordsAfter(from)[0]).toMatchObject({ host: 'api.business.githubcopilot.com', provider: 'github-copilot', model: 'claude-sonnet-4', decision: 'redact' });
    });

    it('an inline code completion (proxy.business…/v1/engines/…/completions): the file around the cursor is checked; text read from the stream, tokens estimated', async () => {
      const from = lastSeq();
      const res = await fetchThrough()('https://proxy.business.githubcopilot.com/v1/engines/gpt-41-copilot/completions', {
        method: 'POST',
        headers: { ...COPILOT_HEADERS, authorization: `Bearer ${COPILOT_TOKEN}`, 'content-type': 'application/json', 'openai-intent': 'copilot-ghost' },
        body: JSON.stringify({ prompt: '# path: app/mail.py\ndef notify():\n    send("jane.doe@acme.example")\n', suffix: '\n\nnotify()\n', max_tokens: 500, temperature: 0, top_p: 1, n: 1, stop: ['\n\n'], stream: true, extra: { language: 'python', next_indent: 4 } }),
      });
      expect(res.status).toBe(200);
      const text = sseJson<{ choices: Array<{ text: string }> }>(await collectSse(res.body as ReadableStream<Uint8Array>)).map((c) => c.choices[0]?.text ?? '').join('');
      expect(text).toContain('from gpt-41-copilot');
      const sent = t.provider.requests.at(-1)?.json as { prompt: string; suffix: string };
      expect(sent.prompt).not.toContain('jane.doe@acme.example');
      expect(sent.suffix).toBe('\n\nnotify()\n');
      const [record] = recordsAfter(from);
      expect(record).toMatchObject({ host: 'proxy.business.githubcopilot.com', provider: 'github-copilot', endpoint: 'completions', model: 'gpt-41-copilot', stream: true, decision: 'redact', tokensEstimated: true });
      expect(record?.outputTokens).toBeGreaterThan(0);
    });

    it('a credential in the prompt is refused in the OpenAI shape Copilot reads, and never reaches GitHub', async () => {
      const from = lastSeq();
      const err = (await copilot('api.githubcopilot.com')
        .chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'why does AKIAIOSFODNN7EXAMPLE fail' }] })
        .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
      expect(err).toBeInstanceOf(OpenAI.PermissionDeniedError);
      expect(err.code).toBe('guardrail_blocked');
      expect(t.provider.requests).toHaveLength(0);
      expect(recordsAfter(from)[0]).toMatchObject({ provider: 'github-copilot', decision: 'block' });
    });
  });

  describe('Codex signed in with ChatGPT', () => {
    /** The request Codex CLI sends (codex-rs `ResponsesApiRequest`, ChatGPT auth). */
    const codexRequest = (userText: string, patch = '*** Begin Patch\n*** End Patch'): RequestInit => ({
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'text/event-stream',
        authorization: 'Bearer eyJhbGciOiJSUzI1NiJ9.chatgpt-access-token.sig',
        'chatgpt-account-id': '4f7a9c1e-0000-4000-8000-000000000001',
        'openai-beta': 'responses=experimental',
        originator: 'codex_cli_rs',
        session_id: '0199a8f2-7d51-7c30-9c61-3b0d5c4f2a10',
        'user-agent': 'codex_cli_rs/0.46.0 (Debian 12; x86_64) xterm-256color',
      },
      body: JSON.stringify({
        model: 'gpt-5-codex',
        instructions: 'You are Codex, a coding agent.',
        input: [
          { type: 'message', role: 'user', content: [{ type: 'input_text', text: userText }] },
          { type: 'custom_tool_call', call_id: 'call_1', name: 'apply_patch', input: patch },
          { type: 'custom_tool_call_output', call_id: 'call_1', output: 'Done!' },
        ],
        tools: [],
        tool_choice: 'auto',
        parallel_tool_calls: false,
        reasoning: { effort: 'medium', summary: 'auto' },
        store: false,
        stream: true,
        include: ['reasoning.encrypted_content'],
        prompt_cache_key: '0199a8f2-7d51-7c30-9c61-3b0d5c4f2a10',
      }),
    });

    it('streams the Responses events to Codex and records model, tokens and cost as openai-codex', async () => {
      const from = lastSeq();
      const res = await fetchThrough()('https://chatgpt.com/backend-api/codex/responses', codexRequest('add a unit test'));
      expect(res.status).toBe(200);
      const events = sseJson<{ type: string; delta?: string }>(await collectSse(res.body as ReadableStream<Uint8Array>));
      expect(events.at(-1)?.type).toBe('response.completed');
      expect(events.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta).join('')).toContain('Echo from gpt-5-codex: add a unit test');
      expect(t.provider.requests.at(-1)).toMatchObject({ host: 'chatgpt.com', path: '/backend-api/codex/responses' });
      const [record] = recordsAfter(from);
      expect(record).toMatchObject({ host: 'chatgpt.com', provider: 'openai-codex', endpoint: 'responses', model: 'gpt-5-codex', stream: true, decision: 'allow', tokensEstimated: false });
      expect(record?.costUsd).toBeGreaterThan(0);
    });

    it('a secret inside an apply_patch call is found and the turn refused before it leaves', async () => {
      const from = lastSeq();
      const res = await fetchThrough()('https://chatgpt.com/backend-api/codex/responses', codexRequest('commit it', '*** Begin Patch\n+AWS_KEY=AKIAIOSFODNN7EXAMPLE\n*** End Patch'));
      expect(res.status).toBe(403);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('guardrail_blocked');
      expect(t.provider.requests).toHaveLength(0);
      expect(recordsAfter(from)[0]).toMatchObject({ provider: 'openai-codex', decision: 'block' });
    });

    it('the ChatGPT web app on the same host stays the web app (its conversation endpoint, unmetered)', async () => {
      const from = lastSeq();
      const res = await fetchThrough()('https://chatgpt.com/backend-api/conversation', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ action: 'next', model: 'auto', messages: [{ author: { role: 'user' }, content: { content_type: 'text', parts: ['hello'] } }] }),
      });
      await res.arrayBuffer();
      expect(recordsAfter(from)[0]).toMatchObject({ host: 'chatgpt.com', provider: 'openai', endpoint: 'chatgpt.conversation', costUsd: null });
    });
  });

  describe('Gemini CLI signed in with Google (Code Assist)', () => {
    /** The request Gemini CLI sends (`CodeAssistServer.generateContentStream`). */
    const codeAssistBody = (text: string): string =>
      JSON.stringify({
        model: 'gemini-2.5-pro',
        project: 'outpost-test-project',
        user_prompt_id: 'a1b2c3d4e5f6########0',
        request: {
          contents: [{ role: 'user', parts: [{ text }] }],
          systemInstruction: { role: 'user', parts: [{ text: 'You are an interactive CLI agent.' }] },
          generationConfig: { temperature: 0, topP: 1, thinkingConfig: { includeThoughts: true } },
          session_id: '5c1e0a3e-9a57-4d8f-8a51-9b7f0f1f2e3d',
        },
      });
    const headers = { 'content-type': 'application/json', authorization: 'Bearer ya29.a0-google-oauth-token', 'user-agent': 'GeminiCLI/0.9.0 (linux; x64)' };

    it('the wrapped stream is read inside its wrappers: text, usage from usageMetadata, an e-mail in the answer redacted', async () => {
      t.provider.knobs.text = 'Ask jane.doe@acme.example to review the change.';
      const from = lastSeq();
      const res = await fetchThrough()('https://cloudcode-pa.googleapis.com/v1internal:streamGenerateContent?alt=sse', { method: 'POST', headers, body: codeAssistBody('who reviews this?') });
      expect(res.status).toBe(200);
      const chunks = sseJson<{ response: { candidates: Array<{ content: { parts: Array<{ text: string }> } }> }; traceId: string }>(await collectSse(res.body as ReadableStream<Uint8Array>));
      expect(chunks.length).toBeGreaterThan(0);
      for (const c of chunks) expect(typeof c.traceId).toBe('string');
      const text = chunks.map((c) => c.response.candidates[0]?.content.parts.map((p) => p.text).join('')).join('');
      expect(text).toContain('Ask ');
      expect(text).not.toContain('jane.doe@acme.example');
      expect(t.provider.requests.at(-1)).toMatchObject({ host: 'cloudcode-pa.googleapis.com', path: '/v1internal:streamGenerateContent?alt=sse' });

      const [record] = recordsAfter(from);
      expect(record).toMatchObject({ host: 'cloudcode-pa.googleapis.com', provider: 'gemini-code-assist', endpoint: 'streamGenerateContent', model: 'gemini-2.5-pro', stream: true, decision: 'redact', tokensEstimated: false });
      expect(record?.outputTokens).toBeGreaterThan(0);
      expect(record?.costUsd).toBeGreaterThan(0);
    });

    it('an e-mail address in the wrapped request is redacted inside request.contents; the wrapper is kept', async () => {
      const res = await fetchThrough()('https://cloudcode-pa.googleapis.com/v1internal:generateContent', { method: 'POST', headers, body: codeAssistBody('send it to jane.doe@acme.example') });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { response: { usageMetadata: { promptTokenCount: number } } };
      expect(body.response.usageMetadata.promptTokenCount).toBeGreaterThan(0);
      const sent = t.provider.requests.at(-1)?.json as { model: string; project: string; request: { contents: Array<{ parts: Array<{ text: string }> }> } };
      expect(sent).toMatchObject({ model: 'gemini-2.5-pro', project: 'outpost-test-project' });
      expect(sent.request.contents[0]?.parts[0]?.text).not.toContain('jane.doe@acme.example');
    });

    it('a blocked prompt gets a Google-shaped error', async () => {
      const res = await fetchThrough()('https://cloudcode-pa.googleapis.com/v1internal:generateContent', { method: 'POST', headers, body: codeAssistBody('the key AKIAIOSFODNN7EXAMPLE is in .env') });
      expect(res.status).toBe(403);
      expect(((await res.json()) as { error: { status: string } }).error.status).toBe('PERMISSION_DENIED');
      expect(t.provider.requests).toHaveLength(0);
    });
  });
});
