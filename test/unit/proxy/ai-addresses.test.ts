import { describe, expect, it } from 'vitest';
import { AiAddressBook } from '../../../agent/proxy/ai-addresses.js';
import { Resolver } from '../../../agent/proxy/upstream-dial.js';

describe('the AI address book (transparent door, fronting towards an AI host)', () => {
  it('remembers which governed host an address serves, the latest wins', () => {
    const book = new AiAddressBook();
    expect(book.hostAt('10.0.0.1')).toBeNull();
    book.learn('10.0.0.1', 'api.openai.com');
    book.learn('10.0.0.1', 'api.anthropic.com');
    expect(book.hostAt('10.0.0.1')).toBe('api.anthropic.com');
    book.close();
  });

  it('is bounded: the oldest addresses go first', () => {
    const book = new AiAddressBook();
    for (let i = 0; i < 5000; i++) book.learn(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, 'api.openai.com');
    expect(book.hostAt('10.0.0.0')).toBeNull();
    expect(book.hostAt('10.0.19.135')).toBe('api.openai.com');
    book.close();
  });

  it('seeds exact names from the upstream.resolve map without DNS, and skips wildcards', async () => {
    const book = new AiAddressBook();
    await book.seed(['api.openai.com', '*.openai.azure.com'], new Resolver({ 'api.openai.com': '192.0.2.7:443', '*.openai.azure.com': '192.0.2.8:443' }));
    expect(book.hostAt('192.0.2.7')).toBe('api.openai.com');
    expect(book.hostAt('192.0.2.8')).toBeNull();
    book.close();
  });
});
