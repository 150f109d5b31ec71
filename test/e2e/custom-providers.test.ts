/**
 * Custom AI hosts by policy (`providers`): the whole agent, its own name-constrained CA, the official
 * SDKs through the proxy to a fake served under a company's own names — an internal DNS name
 * (`llm.corp.example`), a single-label name (`llm`) and an Anthropic-compatible gateway. The hosts
 * are intercepted because the provider is declared, governed by the adapter of the API family they
 * speak (virtual keys, guardrails, prices from the policy, budgets), and audited under the
 * provider's id.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestAgent, type TestAgent } from '../support/agent.js';
import { anthropicClient, openAiClient, type ClientHandle } from '../support/clients.js';
import { FAKE_CUSTOM_HOSTS } from '../support/fake-provider.js';
import type { PolicyInput } from '../../shared/schema/policy.js';
import type { AuditRecord } from '../../shared/schema/audit.js';

const run = promisify(execFile);
const VK = 'ovk-corp-5e4d3c2b1a';
const VK_TINY = 'ovk-tiny-0a1b2c3d4e';
const PRICE = { input: 0.4, output: 1.2 };

const customPolicy: PolicyInput = {
  version: 3,
  name: 'custom-hosts',
  interception: { hosts: ['api.openai.com'] },
  providers: [
    { id: 'corp-llm', api: 'openai', hosts: [FAKE_CUSTOM_HOSTS.openai, FAKE_CUSTOM_HOSTS.singleLabel], pricing: { 'llama-3.1-70b': PRICE } },
    { id: 'corp-claude', api: 'anthropic', hosts: [FAKE_CUSTOM_HOSTS.anthropic], pricing: { 'claude-*': { input: 3, output: 15 } } },
  ],
  pricing: { unknownModel: 'block' },
  virtualKeys: [
    {
      id: 'vk-corp',
      key: VK,
      owner: 'team:engineering',
      allowedModels: ['llama-*', 'claude-*', 'mystery-model'],
      providerKeys: { 'corp-llm': 'keychain:corp-llm', 'corp-claude': 'keychain:corp-claude' },
      budget: { limitUsd: 10, period: '1d' },
    },
    { id: 'vk-tiny', key: VK_TINY, owner: 'user:intern@acme.example', providerKeys: { 'corp-llm': 'keychain:corp-llm' }, budget: { limitUsd: 0.000001, period: '1d' } },
  ],
  guardrails: [
    { id: 'secrets', type: 'secrets', on: ['input'], action: 'block' },
    { id: 'pii', type: 'pii', entities: ['email'], on: ['input'], action: 'redact' },
  ],
};

describe('custom AI hosts declared by policy, through the whole agent', () => {
  let t: TestAgent;
  const clients: Array<ClientHandle<OpenAI> | ClientHandle<Anthropic>> = [];
  const openai = (host: string, apiKey = VK): OpenAI => {
    const handle = openAiClient({ proxyUrl: t.proxyUrl, ca: t.caPem, apiKey, baseURL: `https://${host}/v1`, maxRetries: 0 });
    clients.push(handle);
    return handle.client;
  };
  /** The records written since `seq`, committed first. */
  const recordsAfter = (seq: number): AuditRecord[] => {
    t.agent.store.audit.flushNow();
    return t.agent.store.audit.recordsAfter(seq);
  };
  const lastSeq = (): number => recordsAfter(0).at(-1)?.seq ?? 0;

  beforeAll(async () => {
    t = await startTestAgent({ policy: customPolicy });
    await t.agent.ca.keychain.set('secret:corp-llm', 'sk-corp-llm-real');
    await t.agent.ca.keychain.set('secret:corp-claude', 'sk-corp-claude-real');
  });
  beforeEach(() => t.provider.reset());
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await t?.close();
  });

  it("puts the custom hosts in the CA's name constraints, the single-label one included", async () => {
    expect(t.agent.status().ca.permittedDns).toEqual(expect.arrayContaining(['api.openai.com', 'claude.corp.example', 'llm', 'llm.corp.example']));
    // What OpenSSL reads from the certificate clients trust, not the agent's own account of it.
    const { stdout } = await run('openssl', ['x509', '-noout', '-ext', 'nameConstraints', '-in', t.agent.ca.caFile]);
    for (const name of ['DNS:llm', 'DNS:llm.corp.example', 'DNS:claude.corp.example']) expect(stdout.split(/\s+/)).toContain(name);
  });

  it('sends browsers and apps to the agent for the custom hosts (the PAC file names them)', async () => {
    const pac = await (await fetch(`${t.proxyUrl}/proxy.pac`)).text();
    for (const host of Object.values(FAKE_CUSTOM_HOSTS)) expect(pac).toContain(`h == "${host}"`);
  });

  it('the OpenAI SDK reaches llm.corp.example through the proxy: provider key swapped, priced by the policy, audited as corp-llm', async () => {
    const from = lastSeq();
    const r = await openai(FAKE_CUSTOM_HOSTS.openai).chat.completions.create({ model: 'llama-3.1-70b', messages: [{ role: 'user', content: 'summarise the quarterly plan' }] });
    expect(r.choices[0]?.message.content).toContain('Echo from llama-3.1-70b');
    const seen = t.provider.requests.at(-1);
    expect(seen?.headers.host).toBe(FAKE_CUSTOM_HOSTS.openai);
    expect(seen?.headers.authorization).toBe('Bearer sk-corp-llm-real');
    expect(seen?.rawHeaders.join('\n')).not.toContain('ovk-');

    const [record] = recordsAfter(from);
    const usage = r.usage;
    if (usage === undefined) throw new Error('the fake reports usage');
    expect(record).toMatchObject({ host: FAKE_CUSTOM_HOSTS.openai, provider: 'corp-llm', endpoint: 'chat.completions', model: 'llama-3.1-70b', decision: 'allow', principal: 'vk:vk-corp', priceVersion: 'policy custom-hosts v3' });
    expect(record?.costUsd).toBeCloseTo((usage.prompt_tokens * PRICE.input + usage.completion_tokens * PRICE.output) / 1e6, 12);
  });

  it('a single-label host (https://llm/v1): a real handshake under the constrained root, a stream redacted on the way out', async () => {
    const from = lastSeq();
    const stream = await openai(FAKE_CUSTOM_HOSTS.singleLabel).chat.completions.create({
      model: 'llama-3.1-70b',
      stream: true,
      messages: [{ role: 'user', content: 'write to jane.doe@acme.example about the plan' }],
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toContain('Echo from llama-3.1-70b');
    expect(text).not.toContain('jane.doe@acme.example');
    const sent = JSON.stringify(t.provider.requests.at(-1)?.body);
    expect(sent).not.toContain('jane.doe@acme.example');
    expect(t.provider.requests.at(-1)?.headers.host).toBe(FAKE_CUSTOM_HOSTS.singleLabel);

    const [record] = recordsAfter(from);
    expect(record).toMatchObject({ host: 'llm', provider: 'corp-llm', decision: 'redact', stream: true, rules: [expect.objectContaining({ id: 'pii' })] });
    expect(record?.costUsd).toBeGreaterThan(0);
  });

  it('a guardrail blocks on a custom host: the SDK shows the reason, nothing reaches the endpoint', async () => {
    const from = lastSeq();
    const err = await openai(FAKE_CUSTOM_HOSTS.singleLabel)
      .chat.completions.create({ model: 'llama-3.1-70b', messages: [{ role: 'user', content: 'deploy with AKIAIOSFODNN7EXAMPLE' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect((err as InstanceType<typeof OpenAI.APIError>).code).toBe('guardrail_blocked');
    expect(t.provider.requests).toHaveLength(0);
    expect(recordsAfter(from)[0]).toMatchObject({ host: 'llm', provider: 'corp-llm', decision: 'block' });
  });

  it("a model the policy prices nowhere is unknown (blocked by this policy), never priced from another provider's list", async () => {
    const err = (await openai(FAKE_CUSTOM_HOSTS.openai)
      .chat.completions.create({ model: 'mystery-model', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(err.status).toBe(403);
    expect(err.code).toBe('price_unknown');
    expect(t.provider.requests).toHaveLength(0);
  });

  it("the policy's prices feed budgets: a virtual key with no room gets 402 budget_exceeded", async () => {
    const err = (await openai(FAKE_CUSTOM_HOSTS.openai, VK_TINY)
      .chat.completions.create({ model: 'llama-3.1-70b', messages: [{ role: 'user', content: 'a long question '.repeat(50) }] })
      .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(err.status).toBe(402);
    expect(err.code).toBe('budget_exceeded');
    expect(t.provider.requests).toHaveLength(0);
  });

  it('an Anthropic-compatible custom host is governed by the Anthropic adapter, audited as corp-claude', async () => {
    const from = lastSeq();
    const handle = anthropicClient({ proxyUrl: t.proxyUrl, ca: t.caPem, apiKey: VK, baseURL: `https://${FAKE_CUSTOM_HOSTS.anthropic}`, maxRetries: 0 });
    clients.push(handle);
    const msg = await handle.client.messages.create({ model: 'claude-sonnet-4', max_tokens: 64, messages: [{ role: 'user', content: 'hello there' }] });
    expect(msg.content[0]).toMatchObject({ type: 'text' });
    expect(t.provider.requests.at(-1)?.headers['x-api-key']).toBe('sk-corp-claude-real');
    const [record] = recordsAfter(from);
    expect(record).toMatchObject({ host: FAKE_CUSTOM_HOSTS.anthropic, provider: 'corp-claude', endpoint: 'messages', priceVersion: 'policy custom-hosts v3' });
    expect(record?.inputTokens).toBe(msg.usage.input_tokens);
    expect(record?.costUsd).toBeCloseTo((msg.usage.input_tokens * 3 + msg.usage.output_tokens * 15) / 1e6, 12);
  });
});
