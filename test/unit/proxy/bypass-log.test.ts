import { describe, expect, it } from 'vitest';
import { BypassLog } from '../../../agent/proxy/bypass-log.js';

describe('the bypass log', () => {
  it('counts attempts by kind and action and keeps the latest 20, newest last', () => {
    const log = new BypassLog(() => Date.UTC(2026, 0, 1));
    for (let i = 0; i < 25; i++) log.note({ kind: 'ip-literal', action: 'intercepted' }, 'api.openai.com', `attempt ${i}`, 'curl/8');
    log.note({ kind: 'sni-mismatch', action: 'blocked' }, 'api.deepseek.com', 'last', null);
    const s = log.summary();
    expect(s.total).toBe(26);
    expect(s.counts).toEqual([
      { kind: 'ip-literal', action: 'intercepted', count: 25 },
      { kind: 'sni-mismatch', action: 'blocked', count: 1 },
    ]);
    expect(s.recent).toHaveLength(20);
    expect(s.recent[0]?.detail).toBe('attempt 6');
    expect(s.recent.at(-1)).toEqual({ kind: 'sni-mismatch', action: 'blocked', at: '2026-01-01T00:00:00.000Z', host: 'api.deepseek.com', detail: 'last', app: null });
  });
});
