/**
 * Secrets the gateway config names by reference (`{ "env": NAME }` or `{ "file": PATH }`), read when
 * needed so a rotated file is picked up without a restart. The value never appears in a log or error.
 */
import fs from 'node:fs/promises';
import type { SecretSource } from '../shared/schema/gateway-config.js';

/** The secret's value, trimmed; null when the variable is unset, the file unreadable, or either empty. */
export async function readSecretSource(source: SecretSource, env: NodeJS.ProcessEnv = process.env): Promise<string | null> {
  const value = 'env' in source ? env[source.env] : await fs.readFile(source.file, 'utf8').catch(() => undefined);
  const trimmed = value?.trim() ?? '';
  return trimmed === '' ? null : trimmed;
}
