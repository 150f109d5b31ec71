/** Reading a policy file: JSON first, then the schema; every problem located by JSON path. */
import fs from 'node:fs/promises';
import { policy, type Policy } from '../../shared/schema/policy.js';
import { InvalidDocumentError, problemsOf } from '../../shared/schema/validate.js';

/** Parses policy JSON text, or throws `InvalidDocumentError` listing every problem. */
export function parsePolicyText(text: string, what = 'policy'): Policy {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new InvalidDocumentError(what, [{ path: '$', message: `not valid JSON: ${(err as Error).message}` }]);
  }
  const result = policy.safeParse(raw);
  if (!result.success) throw new InvalidDocumentError(what, problemsOf(result.error));
  return result.data;
}

/** Reads and validates a policy file. */
export async function loadPolicyFile(file: string): Promise<Policy> {
  const text = await fs.readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new InvalidDocumentError(`policy ${file}`, [{ path: '$', message: `cannot read the file: ${err.code ?? err.message}` }]);
  });
  return parsePolicyText(text, `policy ${file}`);
}
