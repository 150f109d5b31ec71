/**
 * The policy the governed bench subjects run: the repo's example policy (examples/policy.json) with its guardrails,
 * audit settings and budgets (raised so a benchmark never exhausts them), without its request-rate
 * limit (which would answer 429 to a load generator), and `*.bench.test` added for the
 * first-handshake measurement. Used by the in-process subject and by the whole agent (`outpost start`).
 */
import fs from 'node:fs/promises';
import { exampleFile } from '../support/repo.js';

/** The bench policy as a JSON document (validated by whoever loads it). */
export async function benchPolicyDocument(): Promise<Record<string, unknown>> {
  const raw = JSON.parse(await fs.readFile(exampleFile('policy.json'), 'utf8')) as {
    interception: { hosts: string[] };
    defaults: { rateLimit?: unknown; budget?: { limitUsd: number } };
    budgets?: Array<{ limitUsd: number }>;
  };
  raw.interception.hosts.push('*.bench.test');
  delete raw.defaults.rateLimit;
  if (raw.defaults.budget) raw.defaults.budget.limitUsd = 1e9;
  for (const b of raw.budgets ?? []) b.limitUsd = 1e9;
  return raw as unknown as Record<string, unknown>;
}
