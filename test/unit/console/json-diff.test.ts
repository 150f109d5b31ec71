import { describe, expect, it } from 'vitest';
import { jsonDiff } from '../../../console/json-diff.js';

describe('the policy diff', () => {
  it('reports each change at its own path', () => {
    const before = { name: 'p', failMode: 'open', guardrails: [{ id: 'a', action: 'block' }], budgets: [{ id: 'org' }], 'odd key': 1 };
    const after = { name: 'p', failMode: 'closed', guardrails: [{ id: 'a', action: 'redact' }, { id: 'b', action: 'block' }], budgets: [], pause: { allowed: true } };
    expect(jsonDiff(before, after)).toEqual([
      { path: 'failMode', kind: 'changed', before: 'open', after: 'closed' },
      { path: 'guardrails[0].action', kind: 'changed', before: 'block', after: 'redact' },
      { path: 'guardrails[1]', kind: 'added', after: { id: 'b', action: 'block' } },
      { path: 'budgets[0]', kind: 'removed', before: { id: 'org' } },
      { path: '["odd key"]', kind: 'removed', before: 1 },
      { path: 'pause', kind: 'added', after: { allowed: true } },
    ]);
  });

  it('finds nothing between equal documents, and a whole change at the top', () => {
    expect(jsonDiff({ a: [1, { b: null }] }, { a: [1, { b: null }] })).toEqual([]);
    expect(jsonDiff(1, 'x')).toEqual([{ path: '(document)', kind: 'changed', before: 1, after: 'x' }]);
  });
});
