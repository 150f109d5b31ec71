/** The tray window's words and numbers (app/renderer/view.ts): written for people, never codes. */
import { describe, expect, it } from 'vitest';
import { budgetBar, checkLine, decisionLabel, headline, limitMoney, money, requestLine } from '../../../app/renderer/view.js';

describe('the tray window view', () => {
  it('puts a pause before degradation, and degradation before all-well', () => {
    const until = new Date(Date.now() + 15 * 60_000).toISOString();
    expect(headline({ degraded: ['x'], paused: { until, by: 'user jane' } }).tone).toBe('paused');
    expect(headline({ degraded: ['transparent door: no SO_ORIGINAL_DST'], paused: null })).toMatchObject({ tone: 'warn', detail: 'Outpost cannot see where some redirected connections were going. Run a check-up below for details.' });
    expect(headline({ degraded: ['audit: the disk holding the audit store is full', 'CA key in a file: /tmp/x'], paused: null }).detail).toBe(
      'Outpost cannot save its activity log right now. Outpost’s security key is kept in a file instead of this computer’s keychain. Run a check-up below for details.',
    );
    // Two technical reasons with one meaning are said once.
    expect(headline({ degraded: ['gateway: commands.json is not valid JSON', 'gateway: inventory.json is not valid JSON'], paused: null }).detail).toBe(
      'Outpost has a problem with its link to your company; it keeps protecting you with the last policy. Run a check-up below for details.',
    );
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
