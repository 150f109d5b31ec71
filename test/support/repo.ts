/** Paths inside this repository, for tests and benches that read its files (never anything beside it). */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, from test/support (vitest runs the sources) or dist/test/support (the bench runs the build). */
export const REPO_ROOT = ((): string => {
  const up = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  return path.basename(up) === 'dist' ? path.dirname(up) : up;
})();

/** The published document formats the repository ships in `examples/`. */
export type ExampleName = 'policy.json' | 'agent.json' | 'gateway.json';

/** A file in the repository's `examples/` folder (the published policy and config formats). */
export function exampleFile(name: ExampleName): string {
  return path.join(REPO_ROOT, 'examples', name);
}
