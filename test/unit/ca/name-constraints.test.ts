import { describe, expect, it } from 'vitest';
import { covers, subtreesFor } from '../../../shared/x509/name-constraints.js';
import { permits } from '../../../agent/ca/issuing-ca.js';

describe('name constraints from policy hosts', () => {
  it('turns wildcards into subtrees and drops names a broader subtree already covers', () => {
    expect(subtreesFor(['api.openai.com', '*.openai.azure.com', 'eastus.openai.azure.com', '*.githubcopilot.com', 'API.openai.com'])).toEqual([
      'api.openai.com',
      'githubcopilot.com',
      'openai.azure.com',
    ]);
  });

  it('says when a new policy stays inside the current constraints', () => {
    expect(covers(['api.openai.com', 'openai.azure.com'], ['x.openai.azure.com', 'api.openai.com'])).toBe(true);
    expect(covers(['api.openai.com'], ['api.anthropic.com'])).toBe(false);
    expect(covers(null, ['anything.example'])).toBe(true);
  });

  it('matches a host to a subtree on label boundaries only', () => {
    expect(permits(['openai.com'], 'api.openai.com')).toBe(true);
    expect(permits(['openai.com'], 'openai.com')).toBe(true);
    expect(permits(['openai.com'], 'evilopenai.com')).toBe(false);
    expect(permits(null, 'evilopenai.com')).toBe(true);
  });

  it('keeps single-label custom hosts as their own subtrees, on label boundaries', () => {
    expect(subtreesFor(['llm', 'llm.corp.example', '*.corp.example', 'ollama.corp'])).toEqual(['corp.example', 'llm', 'ollama.corp']);
    expect(permits(['llm'], 'llm')).toBe(true);
    expect(permits(['llm'], 'gpu1.llm')).toBe(true);
    expect(permits(['llm'], 'xllm')).toBe(false);
    expect(permits(['llm'], 'llm.evil.example')).toBe(false);
  });
});
