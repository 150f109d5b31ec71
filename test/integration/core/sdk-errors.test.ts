/**
 * Refusals as the official SDKs see them: through the real engine, the SDK surfaces Outpost's
 * message, and a blocked request never reaches the provider.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { anthropicClient, openAiClient, type ClientHandle } from '../../support/clients.js';
import { startGatewayWorld, until, type GatewayWorld } from './world.js';

describe('refusals through the engine, as the SDKs surface them', () => {
  let w: GatewayWorld;
  let openai: ClientHandle<OpenAI>;
  let anthropic: ClientHandle<Anthropic>;

  beforeAll(async () => {
    w = await startGatewayWorld(
      {
        virtualKeys: [
          { id: 'vk-eng', key: 'ovk-eng-4f9c2a7e1b', owner: 'team:engineering', allowedModels: ['gpt-4o-mini', 'claude-*'], providerKeys: { openai: 'keychain:openai-eng', anthropic: 'keychain:anthropic-eng' } },
          { id: 'vk-broke', key: 'ovk-broke-00000000', owner: 'user:bob@acme.example', budget: { limitUsd: 0.0001, period: '1d' }, providerKeys: { anthropic: 'keychain:anthropic-eng' } },
        ],
        guardrails: [
          { id: 'secrets', type: 'secrets', action: 'block' },
          { id: 'pii', type: 'pii', on: ['input', 'output'], action: 'redact' },
        ],
      },
      { 'keychain:openai-eng': 'sk-real-openai-key', 'keychain:anthropic-eng': 'sk-ant-real-key' },
    );
    openai = openAiClient({ proxyUrl: w.proxyUrl, ca: w.caPem, apiKey: 'ovk-eng-4f9c2a7e1b', maxRetries: 0 });
    anthropic = anthropicClient({ proxyUrl: w.proxyUrl, ca: w.caPem, apiKey: 'ovk-broke-00000000', maxRetries: 0 });
  });
  beforeEach(() => {
    w.world.provider.reset();
    w.audit.length = 0;
  });
  afterAll(async () => {
    await openai?.close();
    await anthropic?.close();
    await w?.close();
  });

  it('the OpenAI SDK shows the guardrail message; the provider receives nothing', async () => {
    const err = await openai.client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'use -----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA\n-----END OPENSSH PRIVATE KEY-----' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.PermissionDeniedError);
    const e = err as InstanceType<typeof OpenAI.PermissionDeniedError>;
    expect(e.status).toBe(403);
    expect(e.message).toContain('private key block');
    expect(e.code).toBe('guardrail_blocked');
    expect(e.headers?.get('x-outpost-decision')).toBe('block; code=guardrail_blocked; rules=secrets');
    expect(w.world.provider.requests).toHaveLength(0);
    expect(w.audit[0]).toMatchObject({ decision: 'block', principal: 'vk:vk-eng' });
  });

  it('the OpenAI SDK shows a model refusal (403) naming the allowed models', async () => {
    const err = (await openai.client.chat.completions.create({ model: 'o3', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(err.status).toBe(403);
    expect(err.message).toContain('gpt-4o-mini, claude-*');
    expect(w.world.provider.requests).toHaveLength(0);
  });

  it('the Anthropic SDK shows budget_exceeded (402) and does not retry it', async () => {
    const err = (await anthropic.client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 1000, messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e)) as InstanceType<typeof Anthropic.APIError>;
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect(err.status).toBe(402);
    // The SDK shows Anthropic-shaped errors as "STATUS {body}", as it does for Anthropic's own.
    expect(err.message).toContain('has no room for this request');
    expect((err.error as { error: { type: string; message: string } }).error).toMatchObject({ type: 'billing_error', message: expect.stringContaining('budget "vk:vk-broke"') });
    expect(w.world.provider.requests).toHaveLength(0);
  });

  it('the OpenAI SDK with an unknown virtual key gets 401', async () => {
    const bad = openAiClient({ proxyUrl: w.proxyUrl, ca: w.caPem, apiKey: 'ovk-not-a-real-key', maxRetries: 0 });
    try {
      const err = await bad.client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
      expect(w.world.provider.requests).toHaveLength(0);
    } finally {
      await bad.close();
    }
  });

  it('an allowed request reaches the provider with the real key and redacted text, never the virtual key', async () => {
    const { data: r, response } = await openai.client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'summarise the mail from jane@acme.example' }] }).withResponse();
    expect(r.choices[0]?.message.content).toBeTruthy();
    expect(response.headers.get('x-outpost-decision')).toBe('redact; rules=pii');
    const seen = w.world.provider.requests[0]!;
    expect(seen.headers.authorization).toBe('Bearer sk-real-openai-key');
    expect(JSON.stringify(seen.headers)).not.toContain('ovk-');
    expect(seen.body.toString()).toContain('[REDACTED:email]');
    expect(seen.body.toString()).not.toContain('jane@acme.example');
  });

  it('a stream the client did not ask usage for is charged from the usage chunk, which the SDK never sees', async () => {
    const stream = await openai.client.chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'stream please' }] });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks.every((c) => c.choices.length > 0)).toBe(true);
    expect(chunks.some((c) => c.usage)).toBe(false);
    expect((w.world.provider.requests[0]!.json as { stream_options: unknown }).stream_options).toEqual({ include_usage: true });
    const entry = w.audit.at(-1)!;
    expect(entry).toMatchObject({ tokensEstimated: false, stream: true, status: 200 });
    expect(entry.outputTokens).toBeGreaterThan(0);
    expect(entry.costUsd).toBeGreaterThan(0);
  });
});

describe('Azure OpenAI through the engine', () => {
  it('swaps a virtual key sent as api-key for the Azure key, and names the deployment as the model', async () => {
    const { FAKE_AZURE_HOST } = await import('../../support/fake-provider.js');
    const { fetchFor } = await import('../../support/clients.js');
    const w = await startGatewayWorld(
      { virtualKeys: [{ id: 'vk-az', key: 'ovk-azure-12345678', owner: 'org', providerKeys: { 'azure-openai': 'keychain:azure' } }] },
      { 'keychain:azure': 'azure-real-key' },
    );
    const { client: fetch, close } = fetchFor({ proxyUrl: w.proxyUrl, ca: w.caPem });
    try {
      const r = await fetch(`https://${FAKE_AZURE_HOST}/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'api-key': 'ovk-azure-12345678' },
        body: JSON.stringify({ messages: [{ role: 'user', content: 'hello azure' }] }),
      });
      expect(r.status).toBe(200);
      await r.text();
      expect(w.world.provider.requests[0]?.headers['api-key']).toBe('azure-real-key');
      await until(() => w.audit.length === 1, 'the audit record');
      expect(w.audit[0]).toMatchObject({ provider: 'azure-openai', model: 'gpt-4o-mini', principal: 'vk:vk-az' });
    } finally {
      await close();
      await w.close();
    }
  });
});
