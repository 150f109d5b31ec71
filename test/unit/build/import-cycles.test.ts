/**
 * No import cycles (issue 11): a cycle between capabilities (audit and store, audit and pipeline,
 * the interceptor and its servers) makes their load order fragile and their seams unclear. madge
 * walks the TypeScript imports, type-only ones included, of every source folder. Files must not form
 * a cycle, and neither may capability folders (`agent/audit`, `gateway/store`, ...): a folder that
 * imports another must not be imported back by it, through any path. Files at a part's root
 * (`agent/agent.ts`, `gateway/server.ts`) are composition roots and count on their own.
 */
import path from 'node:path';
import madge from 'madge';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../support/repo.js';

type Graph = Awaited<ReturnType<typeof madge>>;

/** `agent/audit/audit-log.ts` -> `agent/audit`; `agent/agent.ts` stays itself. */
function capability(file: string): string {
  const parts = file.split('/');
  return parts.length <= 2 ? file : parts.slice(0, 2).join('/');
}

/** Every folder cycle, each as one example path `a -> b -> ... -> a`, with the files of its first edge. */
function folderCycles(files: Record<string, string[]>): string[] {
  const edges = new Map<string, Map<string, string>>();
  for (const [file, deps] of Object.entries(files)) {
    for (const dep of deps) {
      const from = capability(file);
      const to = capability(dep);
      if (from === to) continue;
      const out = edges.get(from) ?? new Map<string, string>();
      if (!out.has(to)) out.set(to, `${file} imports ${dep}`);
      edges.set(from, out);
    }
  }
  const found: string[] = [];
  for (const [from, out] of edges) {
    for (const [to, because] of out) {
      // from -> to closes a cycle when `from` is reachable from `to` (breadth first: the shortest way back).
      const back = new Map<string, string>([[to, '']]);
      const queue = [to];
      while (queue.length > 0 && !back.has(from)) {
        const at = queue.shift() as string;
        for (const next of edges.get(at)?.keys() ?? []) {
          if (!back.has(next)) { back.set(next, at); queue.push(next); }
        }
      }
      if (!back.has(from)) continue;
      const way = [from];
      for (let at = back.get(from) as string; at !== ''; at = back.get(at) as string) way.unshift(at);
      found.push(`${[from, ...way].join(' -> ')} (${because})`);
    }
  }
  return found;
}

describe('the import graph', () => {
  let graph: Graph;
  beforeAll(async () => {
    graph = await madge(['agent', 'shared', 'gateway', 'app', 'test'].map((d) => path.join(REPO_ROOT, d)), {
      baseDir: REPO_ROOT,
      fileExtensions: ['ts'],
      tsConfig: path.join(REPO_ROOT, 'tsconfig.json'),
      excludeRegExp: [/node_modules/, /\.d\.ts$/],
    });
  }, 120_000);

  it('has no cycle between files in agent/, shared/, gateway/, app/ or test/', () => {
    expect(graph.circular()).toEqual([]);
  });

  it('has no cycle between capability folders of the product', () => {
    const product = Object.fromEntries(Object.entries(graph.obj()).filter(([file]) => !file.startsWith('test/')));
    expect(folderCycles(product)).toEqual([]);
  });

  it('finds a folder cycle when there is one (the check can fail)', () => {
    expect(folderCycles({
      'agent/audit/log.ts': ['agent/store/database.ts'],
      'agent/store/agent-store.ts': ['agent/audit/log.ts'],
      'agent/store/database.ts': [],
      'agent/agent.ts': ['agent/audit/log.ts'],
    })).toEqual([
      'agent/audit -> agent/store -> agent/audit (agent/audit/log.ts imports agent/store/database.ts)',
      'agent/store -> agent/audit -> agent/store (agent/store/agent-store.ts imports agent/audit/log.ts)',
    ]);
  });
});
