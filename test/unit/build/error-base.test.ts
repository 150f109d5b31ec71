/**
 * One error base (issue 11): every typed error in the product extends `OutpostError`, so each has
 * a stable code and keeps its cause. Reads the sources, as a linter would.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../support/repo.js';

async function sources(dir: string): Promise<string[]> {
  const entries = await fs.readdir(path.join(REPO_ROOT, dir), { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')).map((e) => path.relative(REPO_ROOT, path.join(e.parentPath, e.name)));
}

describe('typed errors', () => {
  it('every error class in agent/, shared/, gateway/ and app/ extends OutpostError', async () => {
    const files = (await Promise.all(['agent', 'shared', 'gateway', 'app'].map(sources))).flat();
    expect(files.length).toBeGreaterThan(100);
    const direct: string[] = [];
    for (const file of files) {
      if (file === path.join('shared', 'errors.ts')) continue;
      const text = await fs.readFile(path.join(REPO_ROOT, file), 'utf8');
      for (const m of text.matchAll(/class (\w+)(?:<[^>]*>)? extends (?:Error|TypeError|RangeError)\b/g)) direct.push(`${file}: ${m[1]}`);
    }
    expect(direct).toEqual([]);
  });
});
