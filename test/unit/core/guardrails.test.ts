import { describe, expect, it } from 'vitest';
import { compileGuardrails, evaluateGuardrails, redactForAudit } from '../../../shared/core/guardrails/engine.js';
import { StreamGuard } from '../../../shared/core/guardrails/stream-guard.js';
import { DETECTORS } from '../../../shared/core/guardrails/registry.js';
import { policy } from '../../../shared/schema/policy.js';
import { ALNUM, rand } from './samples.js';

const p = policy.parse({
  version: 1,
  name: 't',
  guardrails: [
    { id: 'secrets', type: 'secrets', on: ['input'], action: 'block' },
    { id: 'pii', type: 'pii', on: ['input', 'output'], action: 'redact' },
    { id: 'falcon', type: 'regex', pattern: 'project\\s+falcon', flags: 'i', action: 'warn', message: 'Falcon is confidential.' },
  ],
});
const g = compileGuardrails(p.guardrails, 'open');

describe('guardrail evaluation', () => {
  it('returns the shared clean outcome when nothing fires', () => {
    const o = evaluateGuardrails(g.input, ['hello world'], 'input', 'open');
    expect(o.action).toBeNull();
    expect(o.rules).toEqual([]);
  });

  it('blocks on a secret and explains what kind of thing it found, never the thing', () => {
    const key = `ghp_${rand(ALNUM, 36)}`;
    const o = evaluateGuardrails(g.input, ['fine', `token ${key}`], 'input', 'open');
    expect(o.action).toBe('block');
    expect(o.blockedBy?.id).toBe('secrets');
    expect(o.rules[0]).toMatchObject({ id: 'secrets', kind: 'github-pat', action: 'block', target: 'input' });
    expect(JSON.stringify(o.rules)).not.toContain(key);
  });

  it('redacts each text in place and leaves untouched texts null', () => {
    const o = evaluateGuardrails(g.input, ['no pii', 'mail jane@acme.example or call (415) 555-0100'], 'input', 'open');
    expect(o.action).toBe('redact');
    expect(o.redacted).toEqual([null, 'mail [REDACTED:email] or call [REDACTED:phone]']);
  });

  it('takes the strongest action when several rules fire', () => {
    const o = evaluateGuardrails(g.input, ['project falcon, jane@acme.example'], 'input', 'open');
    expect(o.action).toBe('redact');
    expect(o.rules.map((r) => r.id)).toEqual(['pii', 'falcon']);
  });

  it('a detector that throws follows the fail mode', () => {
    const broken = [{ id: 'broken', type: 'regex' as const, action: 'redact' as const, message: null, detector: { scan: () => { throw new Error('boom'); }, explain: () => 'x' } }];
    const open = evaluateGuardrails(broken, ['x'], 'input', 'open');
    expect(open.action).toBe('log');
    expect(open.rules[0]).toMatchObject({ id: 'broken', kind: 'detector-error', action: 'log' });
    const closed = evaluateGuardrails(broken, ['x'], 'input', 'closed');
    expect(closed.action).toBe('block');
    expect(closed.blockedBy?.id).toBe('broken');
  });

  it('redacts every finding for the audit copy, whatever the action', () => {
    expect(redactForAudit(g.input, ['project falcon mail jane@acme.example'])).toEqual(['[REDACTED:regex:falcon] mail [REDACTED:email]']);
  });

  it('has one registry entry per guardrail type', () => {
    expect(Object.keys(DETECTORS).sort()).toEqual(['pii', 'regex', 'secrets']);
  });
});

describe('stream guard', () => {
  const outRules = g.output;

  function run(deltas: string[]): string {
    const guard = new StreamGuard(outRules, 'open', 24);
    let out = '';
    for (const d of deltas) out += guard.push(d).release;
    return out + guard.flush().release;
  }

  it('redacts a phone number split across deltas', () => {
    const text = 'Sure, call me at (415) 555-0100 tomorrow morning, or write.';
    for (let cut = 1; cut < text.length; cut += 3) {
      expect(run([text.slice(0, cut), text.slice(cut)])).toBe('Sure, call me at [REDACTED:phone] tomorrow morning, or write.');
    }
  });

  it('passes clean text through at once, holding back only the last word', () => {
    const guard = new StreamGuard(outRules, 'open');
    expect(guard.push('hello there, general kenobi').release).toBe('hello there, general ');
    expect(guard.push(' and more').release).toBe('kenobi and ');
    expect(guard.flush().release).toBe('more');
  });

  it('holds an open number run past the last space', () => {
    const guard = new StreamGuard(outRules, 'open');
    expect(guard.push('call me on (415) 555-').release).toBe('call me on');
    expect(guard.push('0100 today').release).toBe(' [REDACTED:phone] ');
  });

  it('stops on a blocking finding', () => {
    const blockRules = compileGuardrails([{ id: 'sec', type: 'secrets', on: ['output'], action: 'block' }], 'open').output;
    const guard = new StreamGuard(blockRules, 'open', 16);
    const key = `AKIA${'ABCDEFGHIJKLMNOP'}`;
    expect(guard.push(`here: ${key.slice(0, 10)}`).blockedBy).toBeNull();
    expect(guard.push(`${key.slice(10)} done`).blockedBy?.id).toBe('sec');
  });
});
