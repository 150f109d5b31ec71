import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { policy } from '../../../shared/schema/policy.js';
import { problemsOf } from '../../../shared/schema/validate.js';
import { defaultPolicy } from '../../../shared/policy/default-policy.js';
import { exampleFile } from '../../support/repo.js';

const example = (): Record<string, unknown> => JSON.parse(fs.readFileSync(exampleFile('policy.json'), 'utf8')) as Record<string, unknown>;

/** The JSON paths of every problem in `doc`, as `outpost policy check` prints them. */
function problemPaths(doc: unknown): string[] {
  const r = policy.safeParse(doc);
  if (r.success) return [];
  return problemsOf(r.error).map((p) => p.path);
}

describe('the published policy format', () => {
  it('accepts the shipped example and fills in the defaults', () => {
    const p = policy.parse(example());
    expect(p.name).toBe('acme-default');
    expect(p.virtualKeys.map((v) => v.id)).toEqual(['vk-eng', 'vk-intern']);
    expect(p.virtualKeys[0]?.revoked).toBe(false);
    expect(p.pricing.unknownModel).toBe('allow');
    expect(p.budgets).toEqual([]);
    expect(p.guardrails.find((g) => g.id === 'falcon')).toMatchObject({ type: 'regex', flags: 'i' });
  });

  it('accepts the embedded default policy', () => {
    const p = defaultPolicy();
    expect(p.interception.hosts).toContain('api.openai.com');
    expect(p.guardrails.map((g) => g.action)).toEqual(['block', 'redact']);
  });

  it('accepts a minimal policy', () => {
    expect(problemPaths({ version: 1, name: 'min' })).toEqual([]);
  });
});

describe('an invalid policy is refused with the path of each error', () => {
  const cases: Array<[string, (p: Record<string, any>) => void, string[]]> = [
    ['a misspelled top-level field', (p) => { p.guardrail = []; }, ['$']],
    ['a misspelled nested field', (p) => { p.virtualKeys[0].alowedModels = ['x']; }, ['$.virtualKeys[0]']],
    ['a regex that does not compile', (p) => { p.guardrails[2].pattern = 'project(('; }, ['$.guardrails[2].pattern']],
    ['a negative budget', (p) => { p.virtualKeys[1].budget.limitUsd = -5; }, ['$.virtualKeys[1].budget.limitUsd']],
    ['a zero budget', (p) => { p.defaults.budget.limitUsd = 0; }, ['$.defaults.budget.limitUsd']],
    ['an unknown period', (p) => { p.virtualKeys[0].budget.period = '2 weeks'; }, ['$.virtualKeys[0].budget.period']],
    ['a wildcard in the middle of a host', (p) => { p.interception.hosts[1] = 'api.*.com'; }, ['$.interception.hosts[1]']],
    ['a bare wildcard host', (p) => { p.interception.blockedHosts = ['*']; }, ['$.interception.blockedHosts[0]']],
    ['a host with a scheme', (p) => { p.interception.bypassHosts = ['https://chatgpt.com']; }, ['$.interception.bypassHosts[0]']],
    ['an unknown fail mode', (p) => { p.failMode = 'ajar'; }, ['$.failMode']],
    ['an unknown guardrail type', (p) => { p.guardrails[0].type = 'virus'; }, ['$.guardrails[0].type']],
    ['an unknown guardrail action', (p) => { p.guardrails[1].action = 'shred'; }, ['$.guardrails[1].action']],
    ['an unknown PII entity', (p) => { p.guardrails[1].entities.push('passport'); }, ['$.guardrails[1].entities[5]']],
    ['a provider key for an unknown provider', (p) => { p.virtualKeys[0].providerKeys.openia = 'keychain:openai-eng'; }, ['$.virtualKeys[0].providerKeys.openia']],
    ['a wildcard over a single label', (p) => { p.interception.hosts.push('*.corp'); }, ['$.interception.hosts[11]']],
    ['a provider key that is not a keychain reference', (p) => { p.virtualKeys[0].providerKeys.openai = 'sk-live-123'; }, ['$.virtualKeys[0].providerKeys.openai']],
    ['a fractional rate limit', (p) => { p.virtualKeys[0].rateLimit.requestsPerMinute = 1.5; }, ['$.virtualKeys[0].rateLimit.requestsPerMinute']],
    ['a virtual key with both key and hash', (p) => { p.virtualKeys[0].keySha256 = 'a'.repeat(64); }, ['$.virtualKeys[0]']],
    ['a duplicate virtual key id', (p) => { p.virtualKeys[1].id = 'vk-eng'; }, ['$.virtualKeys[1].id']],
    ['an owner that is not a principal', (p) => { p.virtualKeys[0].owner = 'engineering'; }, ['$.virtualKeys[0].owner']],
    ['an unknown prompt-recording mode', (p) => { p.audit.recordPrompts = 'some'; }, ['$.audit.recordPrompts']],
    ['a version that is not a positive integer', (p) => { p.version = 0; }, ['$.version']],
  ];

  it.each(cases)('%s', (_what, mutate, paths) => {
    const doc = example() as Record<string, any>;
    mutate(doc);
    expect(problemPaths(doc)).toEqual(paths);
  });

  it('reports every problem at once, not only the first', () => {
    const doc = example() as Record<string, any>;
    doc.failMode = 'x';
    doc.guardrails[2].pattern = '(';
    doc.audit.retentionDays = -1;
    expect(problemPaths(doc)).toEqual(['$.failMode', '$.guardrails[2].pattern', '$.audit.retentionDays']);
  });

  it('names the valid values in the message', () => {
    const doc = example() as Record<string, any>;
    doc.virtualKeys[0].budget.period = '1q';
    const r = policy.safeParse(doc);
    expect(r.success).toBe(false);
    if (!r.success) expect(problemsOf(r.error)[0]?.message).toContain('1m, 1h, 1d, 1w, 1M, 1Y');
  });
});
