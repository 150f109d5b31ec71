/** The tray window's words and numbers (app/renderer/view.ts): written for people, never codes. */
import { describe, expect, it } from 'vitest';
import { budgetBar, decisionLabel, headline, money, requestLine } from '../../../app/renderer/view.js';

describe('the tray window view', () => {
  it('puts a pause before degradation, and degradation before all-well', () => {
    const until = new Date(Date.now() + 15 * 60_000).toISOString();
    expect(headline({ degraded: ['x'], paused: { until, by: 'user jane' } }).tone).toBe('paused');
    expect(headline({ degraded: ['the CA is not trusted'], paused: null })).toMatchObject({ tone: 'warn', detail: 'the CA is not trusted' });
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
  });

  it('fills a budget bar to a tenth of a percent, capped at 100, and says whose budget it is', () => {
    const resetsAt = '2027-01-01T00:00:00.000Z';
    expect(budgetBar({ id: 'company', scope: 'org', spentUsd: 1, limitUsd: 300, resetsAt })).toMatchObject({ percent: 0.3, label: 'Company budget' });
    expect(budgetBar({ id: 'vk:eng', scope: 'vk:eng', spentUsd: 9, limitUsd: 5, resetsAt })).toMatchObject({ percent: 100, label: 'Key eng' });
    expect(budgetBar({ id: 't', scope: 'team:design', spentUsd: 4, limitUsd: 5, resetsAt }).label).toBe('Team design');
  });
});
