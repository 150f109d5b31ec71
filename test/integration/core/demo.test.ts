/** `outpost demo` runs offline, end to end, and tells each request's story. */
import { describe, expect, it } from 'vitest';
import { runDemo } from '../../../agent/cli/demo.js';

describe('outpost demo', () => {
  it('shows an allowed, a redacted, a blocked and an over-budget request, then the audit', async () => {
    const lines: string[] = [];
    await runDemo((l) => lines.push(l));
    const text = lines.join('\n');
    expect(text).toContain('x-outpost-decision: allow');
    expect(text).toContain('Reply to [REDACTED:email] and call her on [REDACTED:phone]');
    expect(text).toContain('HTTP 403, x-outpost-decision: block; code=guardrail_blocked; rules=secrets');
    expect(text).toContain('HTTP 402, x-outpost-decision: block; code=budget_exceeded');
    expect(text).toContain('nothing (it never left the machine)');
    expect(text).not.toContain('ovk-demo');
    expect(text).not.toMatch(/AKIA[A-Z0-9]{16}/);
    expect(text.match(/^ {2}\d{4}-\d\d-\d\dT.*(allow|redact|block) /gm)).toHaveLength(6);
  });
});
