import { describe, expect, it } from 'vitest';
import { compileVirtualKeys, findCredentials, hashKey } from '../../../shared/core/virtual-keys.js';
import { compileHostClassifier } from '../../../shared/core/hosts.js';
import { compileModelPatterns } from '../../../shared/core/model-patterns.js';
import { virtualKey } from '../../../shared/schema/policy.js';

describe('virtual keys', () => {
  const table = compileVirtualKeys([
    virtualKey.parse({ id: 'plain', key: 'ovk-plain-0001', owner: 'org' }),
    virtualKey.parse({ id: 'hashed', keySha256: hashKey('ovk-hashed-0002'), owner: 'org' }),
  ]);
  it('recognises a key given in plain form and one given by its hash', () => {
    expect(table.lookup('ovk-plain-0001')?.id).toBe('plain');
    expect(table.lookup('ovk-hashed-0002')?.id).toBe('hashed');
    expect(table.lookup('ovk-plain-0002')).toBeNull();
  });
  it('finds credentials in every place clients put them', () => {
    const creds = findCredentials(
      { authorization: 'Bearer a1', 'x-api-key': 'b2', 'x-goog-api-key': 'c3', 'api-key': 'd4', 'x-outpost-vk': 'e5' },
      '/v1beta/models/x:generateContent?key=f6&alt=sse',
    );
    expect(creds.map((c) => [c.location, c.value])).toEqual([
      ['x-outpost-vk', 'e5'],
      ['authorization', 'a1'],
      ['x-api-key', 'b2'],
      ['x-goog-api-key', 'c3'],
      ['api-key', 'd4'],
      ['query-key', 'f6'],
    ]);
  });
});

describe('model allow-lists', () => {
  it('match exact names and wildcards, nothing else', () => {
    const m = compileModelPatterns(['gpt-4o-mini', 'gpt-4.1*', 'claude-*']);
    expect(m.allows('gpt-4o-mini')).toBe(true);
    expect(m.allows('gpt-4.1-nano')).toBe(true);
    expect(m.allows('claude-sonnet-4-5')).toBe(true);
    expect(m.allows('gpt-4o')).toBe(false);
    expect(m.allows('gpt-4x1')).toBe(false); // "." is literal
  });
});

describe('host classifier', () => {
  const classify = compileHostClassifier({ hosts: ['api.openai.com', '*.openai.azure.com', 'api.deepseek.com'], blockedHosts: ['api.deepseek.com', 'chat.deepseek.com'], bypassHosts: ['pinned.openai.azure.com'] });
  it('intercepts listed hosts and wildcard subdomains, tunnels the rest', () => {
    expect(classify('api.openai.com')).toBe('intercept');
    expect(classify('acme.openai.azure.com')).toBe('intercept');
    expect(classify('openai.azure.com')).toBe('tunnel');
    expect(classify('example.com')).toBe('tunnel');
  });
  it('blocked wins over intercept, bypass wins over a wildcard', () => {
    expect(classify('api.deepseek.com')).toBe('block');
    expect(classify('pinned.openai.azure.com')).toBe('tunnel');
  });
});
