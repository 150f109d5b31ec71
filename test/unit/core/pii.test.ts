import { describe, expect, it } from 'vitest';
import { piiDetector } from '../../../shared/core/guardrails/pii.js';
import { ibanValid, luhnValid } from '../../../shared/core/guardrails/checksums.js';
import { regexDetector } from '../../../shared/core/guardrails/regex.js';

const pii = piiDetector(['email', 'phone', 'credit_card', 'us_ssn', 'iban', 'ipv4']);
const found = (text: string): Array<[string, string]> => pii.scan(text).map((f) => [f.kind, text.slice(f.start, f.end)]);

describe('PII detector', () => {
  it('finds email addresses, not a trailing full stop', () => {
    expect(found('write to jane.doe+ai@acme.example.com.')).toEqual([['email', 'jane.doe+ai@acme.example.com']]);
  });
  it('does not take a decorator or a handle for an email', () => {
    expect(found('@Component and @jane and user@localhost')).toEqual([]);
  });
  it('finds US and international phone numbers', () => {
    expect(found('call (415) 555-0100 or +44 20 7946 0958')).toEqual([
      ['phone', '(415) 555-0100'],
      ['phone', '+44 20 7946 0958'],
    ]);
  });
  it('does not take a date or a version for a phone number', () => {
    expect(found('released 2024-05-01, version 10.2.3, build 20240501')).toEqual([]);
  });
  it('finds card numbers that pass Luhn, with or without separators', () => {
    expect(found('card 4111 1111 1111 1111 and 5500-0000-0000-0004')).toEqual([
      ['credit_card', '4111 1111 1111 1111'],
      ['credit_card', '5500-0000-0000-0004'],
    ]);
  });
  it('ignores 16-digit numbers that fail Luhn', () => {
    expect(found('order 4111 1111 1111 1112')).toEqual([]);
  });
  it('finds US SSNs but not impossible ones', () => {
    expect(found('ssn 123-45-6789')).toEqual([['us_ssn', '123-45-6789']]);
    expect(found('ssn 000-45-6789 666-12-3456 123-00-6789')).toEqual([]);
  });
  it('finds IBANs whose check digits are right', () => {
    expect(found('pay to GB82 WEST 1234 5698 7654 32 today')).toEqual([['iban', 'GB82 WEST 1234 5698 7654 32']]);
    expect(found('pay to GB83 WEST 1234 5698 7654 32 today')).toEqual([]);
  });
  it('finds IPv4 addresses, not four-part versions out of range', () => {
    expect(found('host 10.0.12.7 responded')).toEqual([['ipv4', '10.0.12.7']]);
    expect(found('version 1.2.3.400')).toEqual([]);
  });
  it('reports only the entities the rule asks for', () => {
    const emailsOnly = piiDetector(['email']);
    expect(emailsOnly.scan('jane@acme.example 123-45-6789').map((f) => f.kind)).toEqual(['email']);
  });
});

describe('checksums', () => {
  it('Luhn accepts valid and rejects altered numbers', () => {
    expect(luhnValid('79927398713')).toBe(false); // too short for a card
    expect(luhnValid('4539 1488 0343 6467')).toBe(true);
    expect(luhnValid('4539 1488 0343 6468')).toBe(false);
  });
  it('IBAN mod 97 accepts valid and rejects altered IBANs', () => {
    expect(ibanValid('DE89370400440532013000')).toBe(true);
    expect(ibanValid('DE89370400440532013001')).toBe(false);
  });
});

describe('regex detector', () => {
  it('finds every match of an administrator pattern, case-insensitively when asked', () => {
    const d = regexDetector('falcon', 'project\\s+falcon', 'i');
    expect(d.scan('About Project Falcon and project  falcon.').map((f) => f.kind)).toEqual(['regex:falcon', 'regex:falcon']);
  });
});
