/**
 * The generic credential assignment (issue 10.6): labelled secrets that no specific format matches,
 * in every form people paste them, found; code, prose and placeholders that name keys and tokens,
 * not. Values are generated (seeded), never real secrets.
 */
import { describe, expect, it } from 'vitest';
import { looksLikeCredential } from '../../../shared/core/guardrails/credential-assignment.js';
import { secretsDetector } from '../../../shared/core/guardrails/secrets.js';
import { NEAR_MISSES } from '../../support/credential-near-misses.js';
import { ALNUM, HEX, rand, UPPER_B32 } from './samples.js';

const detector = secretsDetector();
const kinds = (text: string): string[] => detector.scan(text).map((f) => f.kind);
const B64 = `${ALNUM}+/`;
const PASSWORDISH = `${ALNUM}!@#$%^&*~-_`;

describe('credential assignment: labelled secrets outside the canonical formats', () => {
  it('an aws_secret_access_key of 42 characters (the AWS rule wants exactly 40)', () => {
    const text = `aws_secret_access_key=${rand(B64, 42)}`;
    // One finding, from the name's first keyword (not one per keyword: secret, key).
    expect(kinds(text)).toEqual(['credential-assignment']);
  });

  it('an AWS_ACCESS_KEY_ID with a character outside the canonical alphabet', () => {
    for (const odd of ['1', '8', '0', 'a']) {
      const id = `AKIA${rand(UPPER_B32, 10)}${odd}${rand(UPPER_B32, 5)}`;
      const text = `AWS_ACCESS_KEY_ID=${id}`;
      expect(kinds(text), text).toContain('credential-assignment');
      expect(kinds(text)).not.toContain('aws-access-key-id');
    }
  });

  const forms: Array<[string, (v: string) => string]> = [
    ['env', (v) => `DATADOG_API_KEY=${v}`],
    ['export', (v) => `export INTERNAL_SERVICE_TOKEN="${v}"`],
    ['yaml', (v) => `  client_secret: ${v}`],
    ['yaml quoted', (v) => `auth_token: '${v}'`],
    ['json', (v) => `{"name": "svc", "apiKey": "${v}"}`],
    ['json spaced', (v) => `{ "password" : "${v}" }`],
    ['toml', (v) => `secret_key = "${v}"`],
    ['go', (v) => `token := "${v}"`],
    ['php', (v) => `'db_password' => '${v}',`],
    ['bracket', (v) => `config["signing_secret"] = "${v}"`],
    ['header', (v) => `X-Internal-Auth: Bearer ${v}`],
    ['camel', (v) => `const stripeWebhookSecretKey = '${v}';`],
    ['credential', (v) => `SERVICE_CREDENTIALS=${v}`],
    ['passphrase', (v) => `GPG_PASSPHRASE=${v}`],
    ['python kwarg', (v) => `client = Client(access_token="${v}")`],
  ];
  // Shape, generator, the share that must be found. Short values are found less often: a random
  // 16-character string has no digit 6% of the time, and reads as words more often.
  const values: Array<[string, () => string, number]> = [
    ['base64 40', () => rand(B64, 40), 0.97],
    ['base62 32', () => rand(ALNUM, 32), 0.95],
    ['hex 32', () => rand(HEX, 32), 0.99],
    ['hex 64', () => rand(HEX, 64), 0.99],
    ['upper+digits 20', () => rand('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 20), 0.95],
    ['password-like 20', () => rand(PASSWORDISH, 20), 0.9],
    ['base62 20', () => rand(ALNUM, 20), 0.88],
    ['base62 16', () => rand(ALNUM, 16), 0.8],
  ];

  /** A random value that can never read as words (a letter, then a digit or a capital, …): the forms are under test here. */
  const value = (): string => {
    let v = '';
    for (let i = 0; i < 15; i++) v += rand('abcdefghijklmnopqrstuvwxyz', 1) + rand('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ', 1);
    return v;
  };

  for (const [form, make] of forms) {
    it(`finds a labelled secret written as ${form}`, () => {
      const text = make(value());
      const found = detector.scan(text);
      expect(found.map((f) => f.kind)).toContain('credential-assignment');
      // The finding covers the value: redaction leaves none of it.
      const f = found.find((x) => x.kind === 'credential-assignment');
      expect(text.slice(f!.start, f!.end)).toMatch(/[A-Za-z0-9]{30}/);
    });
  }

  it('finds most random values of each shape, across the forms', () => {
    for (const [shape, value, min] of values) {
      let found = 0;
      let total = 0;
      for (let i = 0; i < 40; i++) {
        for (const [, make] of forms) {
          total++;
          if (kinds(make(value())).includes('credential-assignment')) found++;
        }
      }
      expect(found / total, shape).toBeGreaterThanOrEqual(min);
    }
  });
});


describe('credential assignment: near misses', () => {
  for (const line of NEAR_MISSES) {
    it(`not a credential: ${line}`, () => {
      expect(kinds(line)).not.toContain('credential-assignment');
    });
  }

  it('values: random strings pass, words and identifiers do not', () => {
    expect(looksLikeCredential(rand(ALNUM, 24))).toBe(true);
    expect(looksLikeCredential('getUserAuthToken2Handler')).toBe(false);
    expect(looksLikeCredential('my_secret_value_2')).toBe(false);
    expect(looksLikeCredential('1234567890123456')).toBe(false);
    expect(looksLikeCredential('abcdefghijklmnop')).toBe(false);
  });
});
