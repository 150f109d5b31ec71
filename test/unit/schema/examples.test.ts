/**
 * Every document in `examples/` is a published format: each must parse with the schema the product
 * loads it with, and a new example file must be given its schema here (an unmapped file fails).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { agentConfig } from '../../../shared/schema/config.js';
import { gatewayConfig } from '../../../shared/schema/gateway-config.js';
import { policy } from '../../../shared/schema/policy.js';
import { problemsOf } from '../../../shared/schema/validate.js';
import { exampleFile, REPO_ROOT, type ExampleName } from '../../support/repo.js';

const SCHEMA_OF: Record<ExampleName, z.ZodType> = {
  'policy.json': policy,
  'agent.json': agentConfig,
  'gateway.json': gatewayConfig,
};

const shipped = fs.readdirSync(path.join(REPO_ROOT, 'examples')).filter((f) => f.endsWith('.json')).sort();

describe('the examples the repository ships', () => {
  it('are exactly the published formats, each with its schema', () => {
    expect(shipped).toEqual(Object.keys(SCHEMA_OF).sort());
  });

  it.each(shipped)('%s is valid against its schema', (name) => {
    const schema = SCHEMA_OF[name as ExampleName];
    const r = schema.safeParse(JSON.parse(fs.readFileSync(exampleFile(name as ExampleName), 'utf8')));
    expect(r.success ? [] : problemsOf(r.error)).toEqual([]);
  });
});
