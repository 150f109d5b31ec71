/**
 * Rewrites README.md's performance block from `bench-results/latest.json`. `npm run bench` calls
 * `updateReadme` after every run; `npm run bench:readme` (this file as a program) does it alone.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT } from '../support/repo.js';
import { benchRecord, renderBenchBlock, replaceBenchBlock } from './readme-table.js';

/** The README with its block regenerated from the results file under `root` (nothing written). */
export async function regeneratedReadme(root: string = REPO_ROOT): Promise<{ file: string; current: string; next: string }> {
  const results = benchRecord.parse(JSON.parse(await fs.readFile(path.join(root, 'bench-results', 'latest.json'), 'utf8')));
  const file = path.join(root, 'README.md');
  const current = await fs.readFile(file, 'utf8');
  return { file, current, next: replaceBenchBlock(current, renderBenchBlock(results)) };
}

/** Writes the regenerated README; true when it changed. */
export async function updateReadme(root: string = REPO_ROOT): Promise<boolean> {
  const { file, current, next } = await regeneratedReadme(root);
  if (next === current) return false;
  await fs.writeFile(file, next);
  return true;
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const changed = await updateReadme();
  process.stdout.write(changed ? 'README.md performance section regenerated from bench-results/latest.json\n' : 'README.md performance section already matches bench-results/latest.json\n');
}
