/** The tray window's words and numbers (app/renderer/view.ts): written for people, never codes. */
import { describe, expect, it } from 'vitest';
import { budgetBar, checkLine, decisionLabel, gatewayLine, headline, limitMoney, money, plainReason, requestLine } from '../../../app/renderer/view.js';

describe('the tray window view', () => {
  it('puts a pause before degradation, and degradation before all-well', () => {
    const until = new Date(Date.now() + 15 * 60_000).toISOString();
    expect(headline({ degraded: ['x'], paused: { until, by: 'user jane' } }).tone).toBe('paused');
    expect(headline({ degraded: ['the CA is not trusted'], paused: null })).toMatchObject({ tone: 'warn', detail: 'the CA is not trusted. Run a check-up below for details.' });
    expect(headline({ degraded: ['audit: the disk holding the audit store is full', 'CA key in a file: /tmp/x'], paused: null }).detail).toBe('Outpost cannot save its activity log right now. (and 1 more) Run a check-up below for details.');
    expect(headline({ degraded: [], paused: null })).toMatchObject({ tone: 'ok', title: 'You are protected' });
  });

  it('names decisions and services in words', () => {
    expect(decisionLabel('block')).toBe('Blocked');
    expect(decisionLabel('redact')).toBe('Cleaned');
    expect(requestLine({ app: 'OpenAI/JS 6.49.0', host: 'api.openai.com', provider: 'openai', model: 'gpt-4o-mini' })).toBe('OpenAI · gpt-4o-mini from OpenAI');
    expect(requestLine({ app: null, host: 'llm.corp.example', provider: null, model: null })).toBe('llm.corp.example');
  });

  it('shows money as people read it', () => {
    expect(money(0)).toBe('$0.00');
    expect(money(0.00004)).toBe('under 1¢');
    expect(money(12.345)).toBe('$12.35');
    expect(money(12345.6)).toBe('$12,345.60');
    expect(limitMoney(0.002)).toBe('$0.002');
    expect(limitMoney(500)).toBe('$500.00');
  });

  it('says what a degraded reason means, not how IT would write it', () => {
    expect(plainReason('CA key in a file: files readable only by this user in /tmp/k')).not.toContain('/tmp');
    expect(plainReason('gateway: ECONNREFUSED 10.0.0.1:443')).toBe('Outpost cannot reach your company’s server; it keeps protecting you with the last policy.');
    expect(plainReason('gateway: this device was revoked by an administrator ()')).toContain('removed this computer');
    expect(plainReason('something new')).toBe('something new.');
  });

  it('says how the link to the company is, and nothing when not enrolled', () => {
    const base = { url: 'https://outpost.acme.example', deviceId: 'd', connectedSince: null, lastError: null, nextAttemptAt: null, policyVersion: 7, policyRejected: null, audit: { acknowledgedSeq: 0, pending: 0 } };
    expect(gatewayLine(null)).toBeNull();
    expect(gatewayLine({ ...base, state: 'connected' })).toEqual({ tone: 'ok', text: 'Connected to your company (outpost.acme.example) · company policy version 7' });
    expect(gatewayLine({ ...base, state: 'waiting' })?.tone).toBe('warn');
    expect(gatewayLine({ ...base, state: 'revoked' })?.text).toContain('removed this computer');
  });

  it('writes a check-up line with its fix only when something is wrong', () => {
    expect(checkLine({ title: 'the CA is trusted', outcome: 'fail', detail: 'not in NSS', fix: 'outpost ca trust' })).toEqual({ mark: '✗', label: 'Needs fixing', text: 'the CA is trusted: not in NSS', fix: 'outpost ca trust' });
    expect(checkLine({ title: 'the agent answers', outcome: 'ok', detail: 'yes', fix: 'unused' }).fix).toBeNull();
  });

  it('fills a budget bar to a tenth of a percent, capped at 100, and says whose budget it is', () => {
    const resetsAt = '2027-01-01T00:00:00.000Z';
    expect(budgetBar({ id: 'company', scope: 'org', spentUsd: 1, limitUsd: 300, resetsAt })).toMatchObject({ percent: 0.3, label: 'Company budget' });
    expect(budgetBar({ id: 'vk:eng', scope: 'vk:eng', spentUsd: 9, limitUsd: 5, resetsAt })).toMatchObject({ percent: 100, label: 'Key eng' });
    expect(budgetBar({ id: 't', scope: 'team:design', spentUsd: 4, limitUsd: 5, resetsAt }).label).toBe('Team design');
  });
});
