/**
 * Keeping secrets out of text and documents that leave the secret's context (error texts in
 * records and status, diagnostics exports, MCP server inventories): one secrets detector, built
 * once, and one test of whether a name (a JSON field, a command-line flag, an environment variable)
 * holds a secret.
 */
import { sharedSecretsDetector } from './registry.js';
import { redact } from './redact.js';

/** Words that mark a name as holding a secret, matched whole (`keychainMode` is not `key`). */
const SECRET_WORDS = new Set(['key', 'token', 'secret', 'password', 'passwd', 'auth', 'authorization', 'credential', 'credentials', 'cookie']);
/** Endings that mark a run-together word (`apikey`, `authtoken`, `clientsecret`). */
const SECRET_ENDINGS = ['key', 'token', 'secret', 'password', 'passwd', 'credential', 'credentials'];

/**
 * True when `name` holds a secret by its name: one of its words (split at `-`, `_`, `.`, spaces and
 * camelCase humps) is a secret word or ends with one. `apiKey`, `--api-key`, `--authtoken`,
 * `GITHUB_TOKEN`, `enrollmentToken`, `Authorization` are; `keychain`, `tokens_used`, `model` are not.
 */
export function isSecretName(name: string): boolean {
  for (const raw of name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').split(/[-_.\s]+/)) {
    const word = raw.toLowerCase();
    if (SECRET_WORDS.has(word) || SECRET_ENDINGS.some((e) => word.endsWith(e))) return true;
  }
  return false;
}

/** `text` with every secret the secrets detector finds replaced by its marker. */
export function scrubSecrets(text: string): string {
  const findings = sharedSecretsDetector().scan(text);
  return findings.length === 0 ? text : redact(text, findings);
}
