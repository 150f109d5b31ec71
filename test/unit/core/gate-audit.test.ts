/**
 * What the gate records beyond the decision itself: prompts as `audit.recordPrompts` says (built-in
 * secrets and PII redacted in `redacted` mode even with no guardrail), refusals while the audit log
 * cannot record (fail-closed), over-bound bodies and upstream failures, and counter replay after a
 * restart.
 */
import { describe, expect, it } from 'vitest';
import { createGate, type OutpostGate } from '../../../agent/pipeline/gate.js';
import type { AuditHealth } from '../../../agent/pipeline/seam.js';
import type { AuditEntry } from '../../../shared/schema/audit.js';
import { policy, type PolicyInput } from '../../../shared/schema/policy.js';
import { admit, asForward, asRespond, gateWith, openAiSse, pump, request } from './gate-helpers.js';

const OPENAI = 'api.openai.com';
const CHAT = '/v1/chat/completions';
const chat = (content: string, extra: object = {}) => ({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }], ...extra });
// Built at run time so that this test file itself does not trip secret scanners.
const AWS_KEY = ['AKIA', 'Q3EGRKCV7L2ZXW5T'].join('');
const EMAIL = 'grace.hopper@navy.example.org';
const PROMPT = `deploy with ${AWS_KEY} and mail ${EMAIL} when done`;
const ANSWER = JSON.stringify({ choices: [{ message: { content: `I will mail ${EMAIL}.` } }], usage: { prompt_tokens: 10, completion_tokens: 5 } });

function gateOver(input: Partial<PolicyInput>, auditHealth?: AuditHealth): { gate: OutpostGate; audit: AuditEntry[] } {
  const audit: AuditEntry[] = [];
  const gate = createGate({
    policy: policy.parse({ version: 1, name: 'test', interception: { hosts: [OPENAI, 'api.anthropic.com'] }, ...input }),
    audit: { record: (e) => audit.push(e) },
    ...(auditHealth === undefined ? {} : { auditHealth }),
    secrets: { resolve: async () => null },
    identity: { device: 'dev-1', user: 'jane@acme.example' },
  });
  return { gate, audit };
}

describe('gate: prompts in the record, by audit.recordPrompts', () => {
  it('redacted (the default), with no guardrail: the email and the AWS key are recorded redacted, the request goes as sent', async () => {
    const { gate, audit } = gateWith({});
    const f = asForward(await admit(gate, request(OPENAI, CHAT, chat(PROMPT))));
    expect(f.decision).toBe('allow');
    expect(f.body.toString()).toContain(AWS_KEY); // no guardrail: the provider gets what was sent
    pump(f, 200, 'application/json', ANSWER);
    expect(audit[0]?.prompt).toBe('deploy with [REDACTED:aws-access-key-id] and mail [REDACTED:email] when done');
    expect(audit[0]?.output).toBe('I will mail [REDACTED:email].');
    expect(JSON.stringify(audit)).not.toContain(AWS_KEY);
    expect(JSON.stringify(audit)).not.toContain(EMAIL);
  });

  it('full, with no guardrail: recorded as sent', async () => {
    const { gate, audit } = gateWith({ audit: { recordPrompts: 'full' } });
    pump(asForward(await admit(gate, request(OPENAI, CHAT, chat(PROMPT)))), 200, 'application/json', ANSWER);
    expect(audit[0]?.prompt).toBe(PROMPT);
    expect(audit[0]?.output).toBe(`I will mail ${EMAIL}.`);
  });

  it('full still redacts what the policy\'s own guardrails find', async () => {
    const { gate, audit } = gateWith({ audit: { recordPrompts: 'full' }, guardrails: [{ id: 'pii', type: 'pii', action: 'log', entities: ['email'] }] });
    pump(asForward(await admit(gate, request(OPENAI, CHAT, chat(PROMPT)))), 200, 'application/json', ANSWER);
    expect(audit[0]?.prompt).toBe(`deploy with ${AWS_KEY} and mail [REDACTED:email] when done`);
  });

  it('follows a policy change of mode', async () => {
    const { gate, audit } = gateWith({ audit: { recordPrompts: 'full' } });
    gate.setPolicy(policy.parse({ version: 2, name: 'test', interception: { hosts: [OPENAI] }, audit: { recordPrompts: 'redacted' } }));
    pump(asForward(await admit(gate, request(OPENAI, CHAT, chat(PROMPT)))), 200, 'application/json', ANSWER);
    expect(audit[0]?.prompt).not.toContain(EMAIL);
    gate.setPolicy(policy.parse({ version: 3, name: 'test', interception: { hosts: [OPENAI] }, audit: { recordPrompts: 'none' } }));
    pump(asForward(await admit(gate, request(OPENAI, CHAT, chat(PROMPT)))), 200, 'application/json', ANSWER);
    expect(audit[1]).toMatchObject({ prompt: null, output: null });
  });

  it('keeps headers by the audit store\'s allow-list', async () => {
    const { gate, audit } = gateWith({});
    const req = request(OPENAI, CHAT, chat('hi'), { authorization: 'Bearer sk-user-own', 'x-stainless-os': 'Linux', cookie: 'a=b' });
    pump(asForward(await admit(gate, req)), 200, 'application/json', ANSWER);
    expect(audit[0]?.headers).toEqual({ 'content-type': 'application/json', 'user-agent': 'test-sdk/1.0', 'x-stainless-os': 'Linux' });
  });
});

describe('gate: fail-closed auditing', () => {
  it('refuses with 503 audit_unavailable while the log cannot record, and records the refusal', async () => {
    let accept = false;
    const health: AuditHealth = { canAccept: () => accept, health: () => ({ reason: 'the disk is full' }) };
    const { gate, audit } = gateOver({ failMode: 'closed' }, health);
    const r = asRespond(await admit(gate, request(OPENAI, CHAT, chat('hi'))));
    expect(r.status).toBe(503);
    expect(JSON.parse(r.body)).toMatchObject({ error: { code: 'audit_unavailable', message: expect.stringContaining('the disk is full') } });
    expect(r.headers['x-outpost-decision']).toContain('audit_unavailable');
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ decision: 'block', status: 503, provider: 'openai', error: expect.stringContaining('audit unavailable') });
    expect(audit[0]?.rules).toEqual([expect.objectContaining({ id: 'audit', kind: 'audit-unavailable', action: 'deny' })]);
    accept = true;
    expect(asForward(await admit(gate, request(OPENAI, CHAT, chat('hi')))).decision).toBe('allow');
  });
});

describe('gate: answers the engine asks for are recorded', () => {
  it('a body over the bound is recorded as blocked, with the rule that explains it', () => {
    const { gate, audit } = gateWith({});
    const { body: _b, ...head } = request(OPENAI, CHAT, {});
    expect(gate.tooLarge(head, 1024).status).toBe(413);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ decision: 'block', status: 413, error: 'request body too large' });
    expect(audit[0]?.rules).toEqual([expect.objectContaining({ id: 'body-limit', kind: 'request-too-large', action: 'deny' })]);
  });

  it('an upstream failure with no tap (the gate itself failed, fail-closed) is recorded as an error, 502', () => {
    const { gate, audit } = gateWith({});
    const r = gate.upstreamFailed(request(OPENAI, CHAT, chat('hi')), new Error('connect ECONNREFUSED'));
    expect(r.status).toBe(502);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ decision: 'error', status: 502, provider: 'openai', costUsd: null, error: 'upstream failed: connect ECONNREFUSED' });
  });

  it('an upstream failure before any byte of a forwarded request is recorded once, as an error, 502', async () => {
    const { gate, audit } = gateWith({});
    const req = request(OPENAI, CHAT, chat('hi'));
    const f = asForward(await admit(gate, req));
    // What the engine does: fail the tap, then ask for the answer.
    const error = new Error('connect ECONNREFUSED');
    f.tap!.fail(error, 'upstream');
    expect(gate.upstreamFailed(req, error).status).toBe(502);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ id: req.id, decision: 'error', status: 502, principal: 'user:jane@acme.example', model: 'gpt-4o-mini', costUsd: null, error: 'upstream failed: connect ECONNREFUSED' });
  });

  it('a failure mid-response keeps the grant\'s decision and what was charged', async () => {
    const { gate, audit } = gateWith({});
    const f = asForward(await admit(gate, request(OPENAI, CHAT, chat('hi', { stream: true }))));
    f.tap!.head(200, { 'content-type': 'text/event-stream' });
    f.tap!.chunk(Buffer.from(openAiSse(['Hello there']).split('\n\n')[1]! + '\n\n'));
    f.tap!.fail(new Error('ECONNRESET'), 'upstream');
    await expect.poll(() => audit.length).toBe(1); // may wait for the tokenizer: no client waits
    expect(audit[0]).toMatchObject({ decision: 'allow', status: 200, tokensEstimated: true, error: 'upstream failed: ECONNRESET' });
  });

  it('a non-AI call on a governed host is not recorded when upstream fails', () => {
    const { gate, audit } = gateWith({});
    gate.upstreamFailed({ ...request(OPENAI, '/v1/models', ''), method: 'GET' }, new Error('ECONNREFUSED'));
    expect(audit).toHaveLength(0);
  });
});

describe('gate: counter replay after a restart', () => {
  const budgeted: Partial<PolicyInput> = {
    defaults: { budget: { limitUsd: 100, period: '1d' }, rateLimit: { tokensPerDay: 1_000_000 } },
    virtualKeys: [{ id: 'vk-eng', key: 'ovk-eng-4f9c2a7e1b', owner: 'team:engineering', budget: { limitUsd: 50, period: '1M' } }],
    budgets: [{ id: 'org-monthly', scope: 'org', limitUsd: 1000, period: '1M' }],
  };
  const spent = (g: OutpostGate, id: string): number => g.exportState().budgets.windows.filter((w) => w.id === id).reduce((a, w) => a + w.spentUsd, 0);

  it('saved counters plus the records after them: every budget spends the sum of all audited cost', async () => {
    const { gate, audit } = gateWith(budgeted);
    const usage = (n: number) => JSON.stringify({ choices: [{ message: { content: 'ok' } }], usage: { prompt_tokens: 1000 * n, completion_tokens: 100 * n } });
    const run = async (n: number, headers: Record<string, string> = {}): Promise<void> => {
      pump(asForward(await admit(gate, request(OPENAI, CHAT, chat(`q${n}`), headers))), 200, 'application/json', usage(n));
    };
    await run(1);
    await run(2, { 'x-outpost-vk': 'ovk-eng-4f9c2a7e1b' });
    const saved = gate.exportState(); // saved with throughSeq = 2
    await run(3);
    await run(4, { 'x-outpost-vk': 'ovk-eng-4f9c2a7e1b' });
    asRespond(await admit(gate, request(OPENAI, CHAT, chat('blocked'), { 'x-outpost-vk': 'ovk-unknown-key-1' }))); // refused: costs nothing
    const after = audit.slice(2);
    const cost = (filter: (e: AuditEntry) => boolean): number => audit.filter(filter).reduce((a, e) => a + (e.costUsd ?? 0), 0);
    const all = cost(() => true);
    expect(all).toBeGreaterThan(0);

    // A new process: the saved document misses requests 3 and 4 (a kill -9 before the next save).
    const { gate: next } = gateWith(budgeted);
    next.importState(JSON.parse(JSON.stringify(saved)));
    expect(spent(next, 'org-monthly')).toBeCloseTo(cost((e) => e === audit[0] || e === audit[1]), 12);
    const totals = next.replay(after);
    expect(totals.requests).toBe(2);
    expect(totals.costUsd).toBeCloseTo(cost((e) => after.includes(e)), 12);
    expect(spent(next, 'org-monthly')).toBeCloseTo(all, 12);
    expect(spent(next, 'org-monthly')).toBeCloseTo(spent(gate, 'org-monthly'), 12);
    expect(spent(next, 'vk:vk-eng')).toBeCloseTo(cost((e) => e.principal === 'vk:vk-eng'), 12);
    expect(spent(next, 'default:user:jane@acme.example')).toBeCloseTo(cost((e) => e.principal === 'user:jane@acme.example'), 12);
    // Tokens land in today's window too.
    expect(next.exportState().rates).toEqual(gate.exportState().rates);
  });

  it('skips refused, failed and out-of-window records', () => {
    const { gate } = gateWith(budgeted);
    const base = { principal: 'user:jane@acme.example', costUsd: 1, inputTokens: 10, outputTokens: 10 };
    const now = new Date().toISOString();
    const totals = gate.replay([
      { ...base, time: now, decision: 'block' },
      { ...base, time: now, decision: 'error' },
      { ...base, time: now, decision: 'allow', principal: null },
      { ...base, time: '2001-01-01T00:00:00.000Z', decision: 'allow' },
      { ...base, time: now, decision: 'warn', costUsd: 2 },
    ]);
    expect(totals.requests).toBe(2);
    expect(spent(gate, 'default:user:jane@acme.example')).toBe(2);
    expect(spent(gate, 'org-monthly')).toBe(2);
  });
});
