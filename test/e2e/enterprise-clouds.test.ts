/**
 * Enterprise clouds through the whole agent (issue 16.3). AWS Bedrock with the official
 * `@aws-sdk/client-bedrock-runtime` (SigV4-signed requests through the proxy, Converse,
 * ConverseStream, InvokeModel and InvokeModelWithResponseStream, the binary event stream read as it
 * passes); guardrails block (never redact: a changed body would fail the signature). Vertex AI's Gemini models
 * (`:streamGenerateContent`) and Anthropic models (`:streamRawPredict`, the Messages shape with the
 * model in the path), with the exact requests Google's and Anthropic's Vertex clients send. Each is
 * governed (guardrails, usage and cost from the answer, one record as `vertex-ai` with the path's
 * model) and signs in with Google Cloud credentials, so no virtual key is required.
 */
import { BedrockRuntimeClient, ConverseCommand, ConverseStreamCommand, InvokeModelCommand, InvokeModelWithResponseStreamCommand, AccessDeniedException } from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestAgent, type TestAgent } from '../support/agent.js';
import { fetchFor, TrustingProxyAgent, type ClientHandle } from '../support/clients.js';
import { collectSse, sseJson } from '../support/sse.js';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { policy as policySchema, type PolicyInput } from '../../shared/schema/policy.js';
import type { AuditRecord } from '../../shared/schema/audit.js';

const VERTEX = 'us-central1-aiplatform.googleapis.com';
const VERTEX_CLAUDE = 'us-east5-aiplatform.googleapis.com';
const BEDROCK = 'bedrock-runtime.us-east-1.amazonaws.com';

const policy: PolicyInput = {
  version: 1,
  name: 'clouds',
  interception: { hosts: [VERTEX, VERTEX_CLAUDE, BEDROCK] },
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

  describe('AWS Bedrock (the official SDK, SigV4-signed, through the proxy)', () => {
    let bedrock: BedrockRuntimeClient;
    let agent: TrustingProxyAgent;
    const CLAUDE = 'anthropic.claude-3-5-sonnet-20241022-v2:0';
    const NOVA = 'us.amazon.nova-pro-v1:0';
    beforeAll(() => {
      agent = new TrustingProxyAgent(t.proxyUrl, t.caPem);
      bedrock = new BedrockRuntimeClient({
        region: 'us-east-1',
        credentials: { accessKeyId: 'AKIAFAKEBEDROCKUSER1', secretAccessKey: 'fake-secret-access-key-for-tests' },
        requestHandler: new NodeHttpHandler({ httpsAgent: agent }),
        maxAttempts: 1,
      });
    });
    afterAll(() => {
      bedrock?.destroy();
      agent?.destroy();
    });

    it('Converse: the answer and its usage; priced from the model id; the signature reaches AWS untouched', async () => {
      const from = lastSeq();
      const r = await bedrock.send(new ConverseCommand({ modelId: NOVA, system: [{ text: 'be brief' }], messages: [{ role: 'user', content: [{ text: 'what is our refund policy' }] }], inferenceConfig: { maxTokens: 300 } }));
      expect(r.output?.message?.content?.[0]?.text).toContain(`Echo from ${NOVA}: what is our refund policy`);
      const seen = t.provider.requests.at(-1);
      expect(seen?.path).toBe(`/model/${encodeURIComponent(NOVA)}/converse`);
      expect(seen?.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIAFAKEBEDROCKUSER1\//);
      const [record] = recordsAfter(from);
      expect(record).toMatchObject({ host: BEDROCK, provider: 'bedrock', endpoint: 'converse', model: NOVA, decision: 'allow', tokensEstimated: false, inputTokens: r.usage?.inputTokens, outputTokens: r.usage?.outputTokens });
      expect(record?.costUsd).toBeGreaterThan(0);
    });

    it('ConverseStream: the binary event stream reaches the SDK whole; text and usage read from it on the way', async () => {
      t.provider.knobs.chunks = 5;
      const from = lastSeq();
      const r = await bedrock.send(new ConverseStreamCommand({ modelId: NOVA, messages: [{ role: 'user', content: [{ text: 'list three risks' }] }] }));
      let text = '';
      let usage: { inputTokens?: number; outputTokens?: number } | undefined;
      for await (const ev of r.stream ?? []) {
        text += ev.contentBlockDelta?.delta?.text ?? '';
        if (ev.metadata) usage = ev.metadata.usage;
      }
      expect(text).toBe(`Echo from ${NOVA}: list three risks`);
      const [record] = recordsAfter(from);
      expect(record).toMatchObject({ provider: 'bedrock', endpoint: 'converse-stream', stream: true, decision: 'allow', tokensEstimated: false, inputTokens: usage?.inputTokens, outputTokens: usage?.outputTokens });
      expect(record?.output).toBe(text);
    });

    it('InvokeModelWithResponseStream (Anthropic): model events inside the chunks read; usage from Bedrock\'s invocation metrics', async () => {
      const from = lastSeq();
      const r = await bedrock.send(
        new InvokeModelWithResponseStreamCommand({ modelId: CLAUDE, contentType: 'application/json', body: JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 256, messages: [{ role: 'user', content: 'name a colour' }] }) }),
      );
      let text = '';
      for await (const ev of r.body ?? []) {
        const inner = JSON.parse(Buffer.from(ev.chunk?.bytes ?? new Uint8Array()).toString('utf8')) as { type: string; delta?: { text?: string } };
        if (inner.type === 'content_block_delta') text += inner.delta?.text ?? '';
      }
      expect(text).toContain(`Echo from ${CLAUDE}: name a colour`);
      const [record] = recordsAfter(from);
      expect(record).toMatchObject({ provider: 'bedrock', endpoint: 'invoke-with-response-stream', model: CLAUDE, stream: true, tokensEstimated: false });
      expect(record?.outputTokens).toBeGreaterThan(0);
      expect(record?.costUsd).toBeGreaterThan(0);
    });

    it('a prompt a guardrail would redact is blocked instead (the body is signed), in the shape the SDK raises; AWS never sees it', async () => {
      const from = lastSeq();
      const err = await bedrock
        .send(new InvokeModelCommand({ modelId: CLAUDE, contentType: 'application/json', body: JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 64, messages: [{ role: 'user', content: 'email jane.doe@acme.example the numbers' }] }) }))
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AccessDeniedException);
      expect((err as Error).message).toContain('signature');
      expect(t.provider.requests).toHaveLength(0);
      const [record] = recordsAfter(from);
      expect(record).toMatchObject({ provider: 'bedrock', decision: 'block', rules: [expect.objectContaining({ id: 'pii', action: 'block' })] });
    });

    it('with device credentials in the policy (bedrock.resignWith), the prompt is redacted and signed again: AWS would verify the new signature', async () => {
      await t.agent.ca.keychain.set('secret:aws-bedrock', JSON.stringify({ accessKeyId: 'AKIADEVICEBEDROCK001', secretAccessKey: 'device-secret-access-key' }));
      await t.agent.applyPolicy(policySchema.parse({ ...policy, version: 2, bedrock: { resignWith: 'keychain:aws-bedrock' } }), 'test');
      const from = lastSeq();
      const r = await bedrock.send(new ConverseCommand({ modelId: NOVA, messages: [{ role: 'user', content: [{ text: 'email jane.doe@acme.example the numbers' }] }] }));
      expect(r.output?.message?.content?.[0]?.text).not.toContain('jane.doe@acme.example');
      const seen = t.provider.requests.at(-1);
      if (seen === undefined) throw new Error('the request did not reach the fake');
      expect(seen.body.toString()).not.toContain('jane.doe@acme.example');
      // Verify as AWS does: recompute the signature over what arrived, with the device's secret.
      const auth = String(seen.headers.authorization);
      expect(auth).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIADEVICEBEDROCK001\/\d{8}\/us-east-1\/bedrock\/aws4_request/);
      const signedNames = /SignedHeaders=([^,]+)/.exec(auth)?.[1]?.split(';') ?? [];
      const headers = Object.fromEntries(signedNames.map((n) => [n, String(seen.headers[n])]));
      const amzDate = String(seen.headers['x-amz-date']);
      const at = new Date(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`);
      const verifier = new SignatureV4({ service: 'bedrock', region: 'us-east-1', credentials: { accessKeyId: 'AKIADEVICEBEDROCK001', secretAccessKey: 'device-secret-access-key' }, sha256: Hash.bind(null, 'sha256') });
      const expected = await verifier.sign({ method: 'POST', protocol: 'https:', hostname: BEDROCK, path: seen.path, query: {}, headers, body: seen.body }, { signingDate: at });
      expect(auth).toBe(expected.headers['authorization']);
      expect(recordsAfter(from)[0]).toMatchObject({ provider: 'bedrock', decision: 'redact' });
      await t.agent.applyPolicy(policySchema.parse({ ...policy, version: 3 }), 'test');
    });

    it('an output rule that would redact a Bedrock stream is evaluated for the record and says it was not enforced', async () => {
      t.provider.knobs.text = 'Reach jane.doe@acme.example for access.';
      const from = lastSeq();
      const r = await bedrock.send(new ConverseStreamCommand({ modelId: NOVA, messages: [{ role: 'user', content: [{ text: 'who grants access' }] }] }));
      for await (const _ev of r.stream ?? []) {
        // drain
      }
      const [record] = recordsAfter(from);
      expect(record?.rules).toEqual(expect.arrayContaining([expect.objectContaining({ id: 'output-guardrails', kind: 'not-enforced' }), expect.objectContaining({ id: 'pii', target: 'output' })]));
      expect(record?.output).not.toContain('jane.doe@acme.example');
    });
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
