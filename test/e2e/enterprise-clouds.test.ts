/**
 * Enterprise clouds through the whole agent (issue 16.3): Vertex AI's Gemini models
 * (`:streamGenerateContent`) and Anthropic models (`:streamRawPredict`, the Messages shape with the
 * model in the path), with the exact requests Google's and Anthropic's Vertex clients send. Each is
 * governed (guardrails, usage and cost from the answer, one record as `vertex-ai` with the path's
 * model) and signs in with Google Cloud credentials, so no virtual key is required.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestAgent, type TestAgent } from '../support/agent.js';
import { fetchFor, type ClientHandle } from '../support/clients.js';
import { collectSse, sseJson } from '../support/sse.js';
import type { PolicyInput } from '../../shared/schema/policy.js';
import type { AuditRecord } from '../../shared/schema/audit.js';

const VERTEX = 'us-central1-aiplatform.googleapis.com';
const VERTEX_CLAUDE = 'us-east5-aiplatform.googleapis.com';

const policy: PolicyInput = {
  version: 1,
  name: 'clouds',
  interception: { hosts: [VERTEX, VERTEX_CLAUDE] },
  defaults: { requireVirtualKey: true },
  guardrails: [
    { id: 'secrets', type: 'secrets', on: ['input'], action: 'block' },
    { id: 'pii', type: 'pii', entities: ['email'], on: ['input', 'output'], action: 'redact' },
  ],
};

const GOOGLE_AUTH = { authorization: 'Bearer ya29.a0-service-account-token', 'content-type': 'application/json', 'x-goog-api-client': 'gl-node/20.20.2 gdcl/1.30.0' };

describe('enterprise clouds through the whole agent', () => {
  let t: TestAgent;
  const handles: Array<ClientHandle<unknown>> = [];
  const recordsAfter = (seq: number): AuditRecord[] => {
    t.agent.store.audit.flushNow();
    return t.agent.store.audit.recordsAfter(seq);
  };
  const lastSeq = (): number => recordsAfter(0).at(-1)?.seq ?? 0;
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

  describe('Vertex AI', () => {
    const geminiUrl = `https://${VERTEX}/v1/projects/acme-prod/locations/us-central1/publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse`;
    const claudeUrl = (method: string): string => `https://${VERTEX_CLAUDE}/v1/projects/acme-prod/locations/us-east5/publishers/anthropic/models/claude-sonnet-4@20250514:${method}`;

    it('Gemini: a streamed answer passes, the prompt is redacted, usage and cost recorded under the path model', async () => {
      const from = lastSeq();
      const res = await fetchThrough()(geminiUrl, {
        method: 'POST',
        headers: GOOGLE_AUTH,
        body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'draft a reply to jane.doe@acme.example' }] }], generationConfig: { maxOutputTokens: 256 } }),
      });
      expect(res.status).toBe(200);
      const chunks = sseJson<{ candidates: Array<{ content: { parts: Array<{ text: string }> } }> }>(await collectSse(res.body as ReadableStream<Uint8Array>));
      expect(chunks.map((c) => c.candidates[0]?.content.parts[0]?.text).join('')).toContain('Echo from gemini-2.5-flash');
      expect(JSON.stringify(t.provider.requests.at(-1)?.json)).not.toContain('jane.doe@acme.example');
      const [record] = recordsAfter(from);
      expect(record).toMatchObject({ host: VERTEX, provider: 'vertex-ai', endpoint: 'streamGenerateContent', model: 'gemini-2.5-flash', stream: true, decision: 'redact', tokensEstimated: false });
      expect(record?.costUsd).toBeGreaterThan(0);
    });

    it('Claude (streamRawPredict): the Anthropic events pass, usage from message_start and message_delta, priced', async () => {
      const from = lastSeq();
      const res = await fetchThrough()(claudeUrl('streamRawPredict'), {
        method: 'POST',
        headers: GOOGLE_AUTH,
        body: JSON.stringify({ anthropic_version: 'vertex-2023-10-16', max_tokens: 512, stream: true, messages: [{ role: 'user', content: 'summarise the incident' }] }),
      });
      expect(res.status).toBe(200);
      const capture = await collectSse(res.body as ReadableStream<Uint8Array>);
      expect(capture.events.map((e) => e.event)).toContain('message_stop');
      expect(t.provider.requests.at(-1)?.path).toBe('/v1/projects/acme-prod/locations/us-east5/publishers/anthropic/models/claude-sonnet-4@20250514:streamRawPredict');
      const [record] = recordsAfter(from);
      expect(record).toMatchObject({ host: VERTEX_CLAUDE, provider: 'vertex-ai', endpoint: 'streamRawPredict', model: 'claude-sonnet-4@20250514', stream: true, decision: 'allow', tokensEstimated: false });
      expect(record?.inputTokens).toBeGreaterThan(0);
      expect(record?.costUsd).toBeGreaterThan(0);
    });

    it('Claude (rawPredict): a credential in the prompt is refused in Google\'s error shape and never sent', async () => {
      const res = await fetchThrough()(claudeUrl('rawPredict'), {
        method: 'POST',
        headers: GOOGLE_AUTH,
        body: JSON.stringify({ anthropic_version: 'vertex-2023-10-16', max_tokens: 64, messages: [{ role: 'user', content: 'use AKIAIOSFODNN7EXAMPLE' }] }),
      });
      expect(res.status).toBe(403);
      expect(((await res.json()) as { error: { status: string } }).error.status).toBe('PERMISSION_DENIED');
      expect(t.provider.requests).toHaveLength(0);
    });
  });
});
