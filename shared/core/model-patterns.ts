/**
 * Model allow-lists: exact names and `*` wildcards (`gpt-4.1*`, `claude-*`), compiled once per
 * policy version into one anchored regex so a lookup is a single `test`.
 */

/** A compiled allow-list. */
export interface ModelMatcher {
  allows(model: string): boolean;
  readonly patterns: readonly string[];
}

const SPECIAL = /[.+?^${}()|[\]\\/]/g;

/** Compiles model patterns; `*` matches any run of characters (including none). */
export function compileModelPatterns(patterns: readonly string[]): ModelMatcher {
  const exact = new Set<string>();
  const globs: string[] = [];
  for (const p of patterns) {
    if (p.includes('*')) globs.push(p.replace(SPECIAL, '\\$&').replaceAll('*', '.*'));
    else exact.add(p);
  }
  const re = globs.length > 0 ? new RegExp(`^(?:${globs.join('|')})$`) : null;
  return {
    patterns: [...patterns],
    allows: (model) => exact.has(model) || (re !== null && re.test(model)),
  };
}
