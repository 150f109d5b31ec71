import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DENIALS } from '../../../shared/core/denials.js';
import { errorAnswer } from '../../../agent/pipeline/gate-respond.js';
import { REPO_ROOT } from '../../support/repo.js';

describe('the denial table', () => {
  it('docs/architecture.md lists every code with its status and meaning, and nothing else', async () => {
    const doc = await fs.readFile(path.join(REPO_ROOT, 'docs/architecture.md'), 'utf8');
    const rows = [...doc.matchAll(/^\s*\| `([a-z_]+)` \| (\d{3}) \| (.+) \|$/gm)].map((m) => [m[1], Number(m[2]), m[3]]);
    expect(rows).toEqual(Object.entries(DENIALS).map(([code, d]) => [code, d.status, d.explanation]));
  });

  it('a gate answer takes its status from the table', () => {
    for (const code of ['request_too_large', 'gateway_unavailable', 'budget_exceeded'] as const) {
      const answer = errorAnswer(null, code, 'message', 'block');
      expect(answer.kind === 'respond' && answer.status).toBe(DENIALS[code].status);
    }
  });
});
