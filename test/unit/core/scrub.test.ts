import { describe, expect, it } from 'vitest';
import { isSecretName, scrubSecrets } from '../../../shared/core/guardrails/scrub.js';

describe('isSecretName', () => {
  it('knows secret-holding names in every spelling', () => {
    for (const name of ['apiKey', 'api_key', '--api-key', 'apikey', 'authtoken', 'GITHUB_TOKEN', 'enrollmentToken', 'Authorization', 'client.secret', 'DB_PASSWORD', 'credential', 'x-auth', 'Cookie']) {
      expect(isSecretName(name), name).toBe(true);
    }
  });

  it('leaves names that only contain the letters', () => {
    for (const name of ['keychain', 'keychainMode', 'tokens_used', 'model', 'hostname', 'author', 'passthrough', 'monkeys']) {
      expect(isSecretName(name), name).toBe(false);
    }
  });
});

describe('scrubSecrets', () => {
  it('replaces a secret the detector knows and leaves other text', () => {
    const key = `sk-proj-${'A1b2C3d4E5'.repeat(5)}`;
    const out = scrubSecrets(`failed with ${key} at step 2`);
    expect(out).not.toContain(key);
    expect(out).toContain('at step 2');
    expect(scrubSecrets('nothing secret here')).toBe('nothing secret here');
  });
});
