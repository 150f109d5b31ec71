/** Paths of the team handbook's published examples (`../shared/examples` beside the repo). */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, from test/support (vitest runs the sources) or dist/test/support (the bench runs the build). */
export const REPO_ROOT = ((): string => {
  const up = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  return path.basename(up) === 'dist' ? path.dirname(up) : up;
})();

/** A file in the handbook's examples folder (the published policy and config formats). */
export function exampleFile(name: 'policy.json' | 'agent.json' | 'gateway.json'): string {
  return path.resolve(REPO_ROOT, '..', 'shared', 'examples', name);
}
