import { describe, expect, it } from 'vitest';
import { allowListHeaders, auditRedactionRules, builtInAuditRules, recordedText } from '../../../shared/audit/privacy.js';
import { compileGuardrails, type CompiledGuardrail } from '../../../shared/core/guardrails/engine.js';
import type { Guardrail } from '../../../shared/schema/policy.js';

// Built at run time so that this test file itself does not trip secret scanners.
const OPENAI_KEY = ['sk-proj-', 'AbCdEf0123456789XyZ0123AbCdEf0123456789XyZ0123'].join('');
const AWS_KEY = ['AKIA', 'Q3EGRKCV7L2ZXW5T'].join('');
const TEXT = 'deploy with key ABC-TICKET-42 please';

/** Every guardrail of a policy, compiled as the core compiles them (input and output together). */
function policyRules(rules: Guardrail[]): CompiledGuardrail[] {
  const g = compileGuardrails(rules, 'open');
  return [...g.input, ...g.output];
}
// A `log` rule: recorded text is redacted whatever the rule's action.
const ticket = policyRules([{ id: 'ticket', type: 'regex', pattern: 'ABC-TICKET-\\d+', flags: '', action: 'log', on: ['input'] }]);

/** The text recorded under `mode` for a policy with `rules`, the way the gate records it. */
const recorded = (mode: 'none' | 'full' | 'redacted', rules: readonly CompiledGuardrail[], text: string | null): string | null => recordedText(mode, auditRedactionRules(mode, rules), text);

describe('prompts as policy audit.recordPrompts says, through the core detectors', () => {
  it('none: stores no text at all', () => {
    expect(auditRedactionRules('none', ticket)).toEqual([]);
    expect(recorded('none', ticket, TEXT)).toBeNull();
  });

  it('full: keeps the text but still redacts the policy\'s guardrail findings, and nothing else', () => {
    expect(recorded('full', ticket, TEXT)).toBe('deploy with key [REDACTED:regex:ticket] please');
    expect(recorded('full', [], 'mail ada@example.org')).toBe('mail ada@example.org');
    expect(recorded('full', [], `key ${AWS_KEY}`)).toBe(`key ${AWS_KEY}`);
  });

  it('redacted: the policy\'s findings plus, with no guardrail at all, the built-in secrets and PII', () => {
    const text = `key ${OPENAI_KEY} and ${AWS_KEY}, mail ada@example.org, card 4111 1111 1111 1111, ssn 123-45-6789`;
    expect(recorded('redacted', [], text)).toBe('key [REDACTED:openai-api-key] and [REDACTED:aws-access-key-id], mail [REDACTED:email], card [REDACTED:credit_card], ssn [REDACTED:us_ssn]');
    expect(recorded('redacted', ticket, `${TEXT} to ada@example.org`)).toBe('deploy with key [REDACTED:regex:ticket] please to [REDACTED:email]');
  });

  it('redacted: every PII entity, even when the policy\'s own PII rule lists fewer', () => {
    const emailOnly = policyRules([{ id: 'pii', type: 'pii', entities: ['email'], action: 'warn', on: ['input'] }]);
    expect(recorded('redacted', emailOnly, 'ada@example.org from 10.1.2.3')).toBe('[REDACTED:email] from [REDACTED:ipv4]');
    expect(recorded('full', emailOnly, 'ada@example.org from 10.1.2.3')).toBe('[REDACTED:email] from 10.1.2.3');
  });

  it('the built-in rules are compiled once, and a policy secrets rule is not doubled', () => {
    expect(builtInAuditRules()).toBe(builtInAuditRules());
    expect(builtInAuditRules().map((r) => r.type)).toEqual(['secrets', 'pii']);
    const secrets = policyRules([{ id: 'sec', type: 'secrets', action: 'block', on: ['input', 'output'] }]);
    const rules = auditRedactionRules('redacted', secrets);
    expect(rules.filter((r) => r.type === 'secrets')).toHaveLength(1);
    expect(rules.filter((r) => r.type === 'pii')).toHaveLength(1);
  });

  it('merges overlapping findings into one marker (the widest at the same start)', () => {
    const mailbox = policyRules([{ id: 'mailbox', type: 'regex', pattern: 'ada@example', flags: '', action: 'log', on: ['input'] }]);
    expect(recorded('redacted', mailbox, 'to ada@example.org now')).toBe('to [REDACTED:email] now');
  });

  it('keeps null as null in every mode', () => {
    expect(recorded('full', ticket, null)).toBeNull();
    expect(recorded('redacted', ticket, null)).toBeNull();
  });

  it('leaves ordinary prose alone in redacted mode', () => {
    const prose = 'Please summarise the meeting notes from Tuesday, 3 items.';
    expect(recorded('redacted', [], prose)).toBe(prose);
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
