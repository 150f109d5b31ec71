import { describe, expect, it } from 'vitest';
import { auditEntry } from '../../../shared/schema/audit.js';
import { GENESIS_HASH, canonicalEntry, hashRecord, recordHash } from '../../../shared/audit/canonical.js';
import { makeEntry } from '../../support/audit-entries.js';

describe('canonical serialisation of audit records', () => {
  it('lists fields in the schema order whatever order the object was built in', () => {
    const e = makeEntry({ rules: [{ id: 'pii', kind: 'pii:email', action: 'redact', target: 'input', explanation: 'an email address' }], path: '/v1/x', requestBytes: 1, responseBytes: 2, tool: 't', process: { pid: 42, exe: '/usr/bin/curl', name: 'curl' } });
    const shuffled = Object.fromEntries(Object.entries(e).reverse()) as typeof e;
    shuffled.process = { name: 'curl', exe: '/usr/bin/curl', pid: 42 };
    const rule = e.rules[0]!;
    shuffled.rules = [Object.fromEntries(Object.entries(rule).reverse()) as typeof rule];
    shuffled.headers = { 'content-type': 'application/json', 'user-agent': 'OpenAI/JS 6.49.0' };
    expect(canonicalEntry(shuffled)).toBe(canonicalEntry(e));
    expect(Object.keys(JSON.parse(canonicalEntry(e)) as object)).toEqual(Object.keys(auditEntry.shape));
  });

  it('leaves out an optional field added later when it is absent: records chained before it still verify', () => {
    const { door: _door, ...before } = makeEntry();
    const body = canonicalEntry(before);
    expect(body).not.toContain('"door"');
    expect(body.endsWith(`"headers":${JSON.stringify({ 'content-type': 'application/json', 'user-agent': 'OpenAI/JS 6.49.0' })}}`)).toBe(true);
    const withDoor = canonicalEntry({ ...before, door: 'transparent' });
    expect(withDoor.endsWith(',"door":"transparent"}')).toBe(true);
    expect(hashRecord(1, GENESIS_HASH, withDoor)).not.toBe(hashRecord(1, GENESIS_HASH, body));
  });

  it('round-trips: the stored body parses back to the same entry', () => {
    const e = makeEntry();
    expect(JSON.parse(canonicalEntry(e))).toEqual(e);
  });

  it('hashes sequence, previous hash and every field: changing any one changes the hash', () => {
    const e = makeEntry();
    const base = hashRecord(1, GENESIS_HASH, canonicalEntry(e));
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    expect(hashRecord(2, GENESIS_HASH, canonicalEntry(e))).not.toBe(base);
    expect(hashRecord(1, 'f'.repeat(64), canonicalEntry(e))).not.toBe(base);
    expect(hashRecord(1, GENESIS_HASH, canonicalEntry({ ...e, costUsd: 0.000124 }))).not.toBe(base);
    expect(hashRecord(1, GENESIS_HASH, canonicalEntry({ ...e, headers: { ...e.headers, accept: '*/*' } }))).not.toBe(base);
  });

  it('lets a verifier outside the agent recompute the hash from the record alone', () => {
    const e = makeEntry();
    const hash = hashRecord(7, GENESIS_HASH, canonicalEntry(e));
    expect(recordHash({ ...e, seq: 7, prevHash: GENESIS_HASH, hash })).toBe(hash);
  });
});
