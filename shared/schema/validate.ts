/**
 * Turning zod issues into the errors users read: each with a JSON path (`$.guardrails[2].pattern`)
 * and what was expected. Used by `outpost policy check`, config loading and every API edge.
 */
import type { z } from 'zod';
import { OutpostError } from '../errors.js';

/** One problem in a document, located by its JSON path. */
export interface SchemaProblem {
  readonly path: string;
  readonly message: string;
}

/** `['guardrails', 2, 'pattern']` → `$.guardrails[2].pattern`. */
export function jsonPath(path: readonly PropertyKey[]): string {
  let out = '$';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (typeof part === 'string' && /^[A-Za-z_$][\w$]*$/.test(part)) out += `.${part}`;
    else out += `[${JSON.stringify(String(part))}]`;
  }
  return out;
}

/** Flattens zod issues (including those inside unions) into located problems. */
export function problemsOf(error: z.ZodError): SchemaProblem[] {
  return error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return { path: jsonPath(issue.path), message: `unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}: check the spelling` };
    }
    return { path: jsonPath(issue.path), message: issue.message };
  });
}

/** A document that failed validation; `problems` lists every error, not just the first. */
export class InvalidDocumentError extends OutpostError<'invalid_document'> {
  constructor(
    readonly what: string,
    readonly problems: readonly SchemaProblem[],
  ) {
    super('invalid_document', `${what} is invalid:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`);
    this.name = 'InvalidDocumentError';
  }
}

/** Parses `input` with `schema`, or throws an `InvalidDocumentError` naming every problem. */
export function parseDocument<S extends z.ZodType>(schema: S, input: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new InvalidDocumentError(what, problemsOf(result.error));
}
