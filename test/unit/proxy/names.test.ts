import { describe, expect, it } from 'vitest';
import { judgeNames, otherHost } from '../../../agent/proxy/names.js';

const ai = { host: 'api.openai.com', action: 'intercept' } as const;
const other = { host: 'api.mistral.ai', action: 'intercept' } as const;
const harmless = { host: 'cdn.example', action: 'tunnel' } as const;
const shadow = { host: 'api.deepseek.com', action: 'block' } as const;

describe('names that disagree', () => {
  it('keeps the stricter name, in both directions', () => {
    expect(judgeNames(harmless, ai, 'stricter')).toEqual(ai);
    expect(judgeNames(ai, harmless, 'stricter')).toEqual(ai);
    expect(judgeNames(ai, shadow, 'stricter')).toEqual(shadow);
    expect(judgeNames(shadow, harmless, 'stricter')).toEqual(shadow);
  });

  it('keeps the inner name on a tie (the name the client verifies or addresses)', () => {
    expect(judgeNames(ai, other, 'stricter')).toEqual(other);
    expect(judgeNames(harmless, { host: 'b.example', action: 'tunnel' }, 'stricter')).toEqual({ host: 'b.example', action: 'tunnel' });
  });

  it('under block, refuses when either name is governed and lets two harmless ones through', () => {
    expect(judgeNames(harmless, ai, 'block')).toEqual({ host: 'api.openai.com', action: 'block' });
    expect(judgeNames(ai, harmless, 'block')).toEqual({ host: 'api.openai.com', action: 'block' });
    expect(judgeNames(harmless, { host: 'b.example', action: 'tunnel' }, 'block')).toEqual({ host: 'b.example', action: 'tunnel' });
  });
});

describe('the host of a Host header', () => {
  it('is null when it names the same host, with or without port, case or trailing dot', () => {
    for (const header of [undefined, 'api.openai.com', 'API.OpenAI.com', 'api.openai.com:443', 'api.openai.com.', '']) expect(otherHost(header, 'api.openai.com')).toBeNull();
  });

  it('names another host', () => {
    expect(otherHost('Evil.Example:8443', 'api.openai.com')).toBe('evil.example');
    expect(otherHost('[::1]:443', 'api.openai.com')).toBe('[::1]');
  });
});
