/**
 * No import cycles (issue 11): a cycle between capabilities (audit and store, audit and pipeline,
 * the interceptor and its servers) makes their load order fragile and their seams unclear. madge
 * walks the TypeScript imports, type-only ones included, of every source folder.
 */
import path from 'node:path';
import madge from 'madge';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../support/repo.js';

describe('the import graph', () => {
  it('has no cycle in agent/, shared/, gateway/, app/ or test/', async () => {
    const graph = await madge(['agent', 'shared', 'gateway', 'app', 'test'].map((d) => path.join(REPO_ROOT, d)), {
      baseDir: REPO_ROOT,
      fileExtensions: ['ts'],
      tsConfig: path.join(REPO_ROOT, 'tsconfig.json'),
      excludeRegExp: [/node_modules/, /\.d\.ts$/],
    });
    expect(graph.circular()).toEqual([]);
  }, 60_000);
});
