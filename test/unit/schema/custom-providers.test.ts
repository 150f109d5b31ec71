/** Policy `providers`: custom AI hosts speaking a known API, validated and intercepted by declaring them. */
import { describe, expect, it } from 'vitest';
import { policy, type PolicyInput } from '../../../shared/schema/policy.js';
import { problemsOf } from '../../../shared/schema/validate.js';

const base = (extra: Partial<PolicyInput>): PolicyInput => ({
  version: 1,
  name: 'custom',
  interception: { hosts: ['api.openai.com'], blockedHosts: ['llm.shadow.example'] },
  providers: [
    { id: 'corp-llm', api: 'openai', hosts: ['llm.corp.example', 'llm', 'ollama.corp', '*.vllm.corp.example'], pricing: { 'llama-3.1-70b': { input: 0.4, output: 0.8 }, 'qwen*': { input: 0, output: 0 } } },
    { id: 'corp-claude', api: 'anthropic', hosts: ['claude.corp.example'] },
  ],
  virtualKeys: [{ id: 'vk', key: 'ovk-custom-123456', owner: 'org', providerKeys: { openai: 'keychain:openai', 'corp-llm': 'keychain:corp-llm' } }],
  ...extra,
});

function problems(doc: unknown): Array<{ path: string; message: string }> {
  const r = policy.safeParse(doc);
  return r.success ? [] : problemsOf(r.error);
}

describe('custom providers in policy', () => {
  it('accepts internal and single-label hosts, prices per model, and provider keys by custom id', () => {
    const p = policy.parse(base({}));
    expect(p.providers.map((c) => [c.id, c.api])).toEqual([['corp-llm', 'openai'], ['corp-claude', 'anthropic']]);
    expect(p.providers[0]?.pricing?.['qwen*']).toEqual({ input: 0, output: 0 });
    expect(p.virtualKeys[0]?.providerKeys).toEqual({ openai: 'keychain:openai', 'corp-llm': 'keychain:corp-llm' });
  });

  it("puts every provider host in interception.hosts (once), keeping the policy's own", () => {
    const p = policy.parse(base({ interception: { hosts: ['api.openai.com', 'llm'] } }));
    expect(p.interception.hosts).toEqual(['api.openai.com', 'llm', 'llm.corp.example', 'ollama.corp', '*.vllm.corp.example', 'claude.corp.example']);
  });

  it('parses its own output to the same policy (the store and the gateway re-read parsed documents)', () => {
    const once = policy.parse(base({}));
    expect(policy.parse(JSON.parse(JSON.stringify(once)))).toEqual(once);
  });

  it('a policy without providers is unchanged', () => {
    const p = policy.parse({ version: 1, name: 'plain', interception: { hosts: ['api.openai.com'] } });
    expect(p.providers).toEqual([]);
    expect(p.interception.hosts).toEqual(['api.openai.com']);
  });

  const cases: Array<[string, (p: Record<string, any>) => void, string, RegExp]> = [
    ['a built-in id', (p) => { p.providers[1].id = 'openai'; }, '$.providers[1].id', /built-in provider/],
    ['a duplicate id', (p) => { p.providers[1].id = 'corp-llm'; }, '$.providers[1].id', /duplicate provider id "corp-llm" \(also at providers\[0\]\)/],
    ['an id with capitals', (p) => { p.providers[1].id = 'Corp'; }, '$.providers[1].id', /provider id/],
    ['an API no adapter speaks', (p) => { p.providers[0].api = 'gemini'; }, '$.providers[0].api', /openai|anthropic/],
    ['no hosts', (p) => { p.providers[1].hosts = []; }, '$.providers[1].hosts', /at least one host/],
    ['a host with a port', (p) => { p.providers[0].hosts[0] = 'llm.corp.example:8000'; }, '$.providers[0].hosts[0]', /not a host pattern/],
    ['a wildcard over one label', (p) => { p.providers[0].hosts.push('*.corp'); }, '$.providers[0].hosts[4]', /two labels or more/],
    ['a host claimed by two providers', (p) => { p.providers[1].hosts.push('llm'); }, '$.providers[1].hosts[1]', /already belongs to provider "corp-llm"/],
    ['a negative price', (p) => { p.providers[0].pricing['llama-3.1-70b'].input = -1; }, '$.providers[0].pricing["llama-3.1-70b"].input', /0 or more/],
    ['a price with an unknown field', (p) => { p.providers[0].pricing['llama-3.1-70b'].inputUsd = 1; }, '$.providers[0].pricing["llama-3.1-70b"]', /unknown field/],
    ['a provider key for an undeclared provider', (p) => { p.virtualKeys[0].providerKeys['corp-lm'] = 'keychain:x'; }, '$.virtualKeys[0].providerKeys["corp-lm"]', /unknown provider "corp-lm"/],
  ];

  it.each(cases)('refuses %s, naming the field', (_what, mutate, path, message) => {
    const doc = JSON.parse(JSON.stringify(base({}))) as Record<string, any>;
    mutate(doc);
    const found = problems(doc);
    expect(found.map((p) => p.path)).toEqual([path]);
    expect(found[0]?.message).toMatch(message);
  });
});
