/**
 * The PII detector's fast numeric scan (every 7th byte sampled, stretches of digits and separators
 * measured around a hit, re-read on the text) against the detector as it was, which ran
 * `NUMERIC_RUN` over the whole text (`pii-reference.ts`): identical findings, in order, for every
 * entity alone and all together, over the PII test texts and random texts of numbers, separators,
 * words and non-ASCII characters whose low byte is a digit or a separator.
 */
import { describe, expect, it } from 'vitest';
import { NUMERIC_RUN, piiDetector, type PiiEntity } from '../../../shared/core/guardrails/pii.js';
import { ibanValid } from '../../../shared/core/guardrails/checksums.js';
import type { Finding } from '../../../shared/core/guardrails/types.js';
import { referencePiiDetector } from './pii-reference.js';

const ENTITIES: readonly PiiEntity[] = ['email', 'phone', 'credit_card', 'us_ssn', 'iban', 'ipv4'];

let seed = 0xbadcafe;
function random(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 0x1_0000_0000;
}
const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
const digits = (n: number): string => Array.from({ length: n }, () => String(Math.floor(random() * 10))).join('');

/** An IBAN with valid check digits, `groups` groups of four and a tail of 3 after them (15 characters, the shortest valid, at 2). */
function validIban(groups: number, spaced: boolean): string {
  const chars = (n: number): string => Array.from({ length: n }, () => pick([...'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'])).join('');
  const body = [...Array.from({ length: groups }, () => chars(4)), chars(3)];
  const country = pick(['GB', 'DE', 'FR', 'NL', 'XK']);
  for (let cd = 0; cd < 100; cd++) {
    const s = `${country}${String(cd).padStart(2, '0')}${spaced ? ' ' : ''}${body.join(spaced ? ' ' : '')}`;
    if (ibanValid(s)) return s;
  }
  return `${country}00${body.join('')}`;
}

const KNOWN = [
  'write to jane.doe+ai@acme.example.com.', '@Component and @jane and user@localhost', 'call (415) 555-0100 or +44 20 7946 0958',
  'released 2024-05-01, version 10.2.3, build 20240501', 'card 4111 1111 1111 1111 and 5500-0000-0000-0004', 'order 4111 1111 1111 1112',
  'ssn 123-45-6789', 'ssn 000-45-6789 666-12-3456 123-00-6789', 'pay to GB82 WEST 1234 5698 7654 32 today', 'DE89370400440532013000',
  'server 192.168.1.20 and 10.0.0.1, not 999.1.1.1 or 1.2.3.4.5', '+1 415 555 0100', '4111111111111111', '378282246310005',
];
const PIECES = [
  ...KNOWN, ' ', ' ', '-', '.', '(', ')', '+', ',', 'a', 'x', 'the', '\n', () => digits(1 + Math.floor(random() * 4)), () => digits(7 + Math.floor(random() * 12)),
  () => `${digits(3)}-${digits(2)}-${digits(4)}`, () => `(${digits(3)}) ${digits(3)}-${digits(4)}`, () => `+${digits(2)} ${digits(2)} ${digits(4)} ${digits(4)}`,
  () => `${digits(4)} ${digits(4)} ${digits(4)} ${digits(4)}`, () => `${Math.floor(random() * 300)}.${Math.floor(random() * 300)}.${Math.floor(random() * 300)}.${Math.floor(random() * 300)}`,
  // The shortest entities (7 characters: a run the sampling must not step over).
  () => `${digits(1)}.${digits(1)}.${digits(1)}.${digits(1)}`, () => `+${digits(7)}`, () => `+${digits(2)} ${digits(2)} ${digits(2)}`,
  // IBAN material: country codes, check digits, groups of four, glued to letters or not.
  () => `GB${digits(2)} WEST ${digits(4)} ${digits(4)} ${digits(4)} ${digits(2)}`, () => `DE${digits(20)}`, () => `FR${digits(2)}${digits(4)}${digits(4)}`, 'GB82WEST12345698765432', () => validIban(2, false), () => validIban(2, random() < 0.5), () => validIban(2 + Math.floor(random() * 5), random() < 0.5), 'ABCD', 'XY', 'Q', 'z', () => `NL${digits(2)}ABNA${digits(10)}`,
  // Non-ASCII code units whose low byte is a digit, a space, a dot, a dash, a parenthesis or a letter.
  '\u0131', '\u0135', '\u0120', '\u012e', '\u012d', '\u0128', '\u0129', '\u0141', '\u0147', '\u0142', '\u3031', '€', 'é', '😀',
] as const;

function corpus(): string[] {
  const out = [...KNOWN];
  for (let k = 0; k < 3000; k++) {
    let s = '';
    const parts = Math.floor(random() * 40);
    for (let i = 0; i < parts; i++) {
      const p = pick(PIECES);
      s += typeof p === 'function' ? p() : p;
      if (random() < 0.3) s += ' ';
    }
    out.push(s);
  }
  // The shortest entities alone between non-members, at every offset modulo the sampling strides.
  for (let off = 0; off < 40; off++) {
    const pad = ','.repeat(off);
    out.push(`${pad}${validIban(2, false)},`, `${pad}${digits(1)}.${digits(1)}.${digits(1)}.${digits(1)},`, `${pad}${digits(3)}-${digits(2)}-${digits(4)},`);
  }
  return out;
}

const key = (f: Finding): string => `${f.start}:${f.end}:${f.kind}`;

describe('PII scanner equivalence', () => {
  const texts = corpus();
  for (const entities of [ENTITIES, ...ENTITIES.map((e) => [e])]) {
    it(`finds exactly what the old path finds: ${entities.join(', ')}`, () => {
      const fast = piiDetector(entities);
      const reference = referencePiiDetector(entities);
      let findings = 0;
      for (const text of texts) {
        const got = fast.scan(text).map(key);
        const want = reference.scan(text).map(key);
        if (got.join() !== want.join()) expect({ text, got }).toEqual({ text, got: want });
        findings += want.length;
      }
      expect(findings).toBeGreaterThan(entities.length === 1 && entities[0] === 'email' ? 10 : 100);
    });
  }

  it('NUMERIC_RUN, the definition, still matches the runs the corpus has', () => {
    let runs = 0;
    for (const text of texts) runs += [...text.matchAll(NUMERIC_RUN)].length;
    expect(runs).toBeGreaterThan(1000);
  });
});
