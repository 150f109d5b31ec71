import { describe, expect, it } from 'vitest';
import { allowListHeaders, applyPromptPolicy, baselineFindings } from '../../../agent/audit/privacy.js';

const TEXT = 'deploy with key ABC-TICKET-42 please';
const finding = { start: TEXT.indexOf('ABC-TICKET-42'), end: TEXT.indexOf('ABC-TICKET-42') + 'ABC-TICKET-42'.length, kind: 'regex:ticket' };

describe('prompts as policy audit.recordPrompts says', () => {
  it('none: stores no text at all', () => {
    expect(applyPromptPolicy('none', TEXT, [finding])).toBeNull();
  });

  it('full: keeps the text but still redacts guardrail findings', () => {
    expect(applyPromptPolicy('full', TEXT, [finding])).toBe('deploy with key [REDACTED:regex:ticket] please');
    expect(applyPromptPolicy('full', 'mail ada@example.org', [])).toBe('mail ada@example.org');
  });

  it('redacted: redacts findings and, with no guardrail at all, well-known secrets and PII', () => {
    const text = 'key sk-proj-AbCdEf0123456789XyZ0123 and mail ada@example.org, card 4111 1111 1111 1111, ssn 123-45-6789';
    const out = applyPromptPolicy('redacted', text, []);
    expect(out).toBe('key [REDACTED:secret:api-key] and mail [REDACTED:pii:email], card [REDACTED:pii:credit_card], ssn [REDACTED:pii:us_ssn]');
    expect(applyPromptPolicy('redacted', TEXT, [finding])).toBe('deploy with key [REDACTED:regex:ticket] please');
  });

  it('merges overlapping findings into one marker and ignores spans outside the text', () => {
    const text = 'aaaa SECRET bbbb';
    const out = applyPromptPolicy('full', text, [
      { start: 5, end: 11, kind: 'secret:x' },
      { start: 7, end: 9, kind: 'secret:y' },
      { start: 50, end: 60, kind: 'nothing' },
    ]);
    expect(out).toBe('aaaa [REDACTED:secret:x] bbbb');
  });

  it('keeps null as null in every mode', () => {
    expect(applyPromptPolicy('full', null, [])).toBeNull();
    expect(applyPromptPolicy('redacted', null, [])).toBeNull();
  });

  it('finds no baseline secret in ordinary prose', () => {
    expect(baselineFindings('Please summarise the meeting notes from Tuesday, 3 items.')).toEqual([]);
  });
});

describe('headers by allow-list', () => {
  it('keeps client and API-version headers and drops every credential', () => {
    const out = allowListHeaders({
      'User-Agent': 'claude-cli/1.0',
      'content-type': 'application/json',
      'anthropic-version': '2023-06-01',
      authorization: 'Bearer sk-secret',
      'proxy-authorization': 'Basic abc',
      cookie: 'session=1',
      'x-api-key': 'sk-ant-secret',
      'api-key': 'azure-secret',
      'x-goog-api-key': 'AIza-secret',
      'x-bf-vk': 'vk-secret',
      'x-custom': 'whatever',
      accept: ['application/json', 'text/event-stream'],
    });
    expect(out).toEqual({
      'user-agent': 'claude-cli/1.0',
      'content-type': 'application/json',
      'anthropic-version': '2023-06-01',
      accept: 'application/json, text/event-stream',
    });
  });

  it('caps a long value', () => {
    expect(allowListHeaders({ 'user-agent': 'x'.repeat(1000) })['user-agent']).toHaveLength(256);
  });
});
