/**
 * Private by default: a secret, a PII value and a virtual key sent with a request are nowhere in the
 * store's files in clear (database, WAL, shared memory), in any prompt mode; headers are kept by
 * allow-list even when the caller hands the raw request headers to the log. Text is redacted by the
 * core's detectors as the gate applies them: `redacted` with no policy guardrail at all (the built-in
 * secrets and PII detectors), `full` with the policy's secrets and PII guardrails.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../../agent/audit/audit-log.js';
import { auditRedactionRules, recordedText, type PromptMode } from '../../../shared/audit/privacy.js';
import { readRecords } from '../../../agent/audit/records.js';
import { compileGuardrails, type CompiledGuardrail } from '../../../shared/core/guardrails/engine.js';
import { makeEntry } from '../../support/audit-entries.js';
import { tempHome } from './temp-home.js';

// Built at run time so that this test file itself does not trip secret scanners.
const SECRET = ['AKIA', 'Q3EGRKCV7L2ZXW5T'].join('');
const SECRET_OPENAI = ['sk-proj-', 'Zq8Xv2Lm4Np6Rt9Bw3Cy5Dk7Fh1Gj0aB2cD4eF6gH8iJ0kL'].join('');
const PII = 'grace.hopper@navy.example.org';
const VIRTUAL_KEY = ['vk-outpost-', '7f3a9c2e4b1d8f60'].join('');

const logs: AuditLog[] = [];
afterEach(async () => {
  for (const l of logs.splice(0)) await l.close();
});

/** Every byte of the store's files, as latin1 text (each byte one char: no decoding can hide a match). */
function storeBytes(file: string): string {
  return ['', '-wal', '-shm']
    .map((suffix) => `${file}${suffix}`)
    .filter((f) => fs.existsSync(f))
    .map((f) => fs.readFileSync(f).toString('latin1'))
    .join('\n');
}

/** A policy's secrets and PII guardrails, compiled by the core (warn only: the record still redacts them). */
const guarded = compileGuardrails(
  [
    { id: 'secrets', type: 'secrets', action: 'warn', on: ['input', 'output'] },
    { id: 'pii', type: 'pii', entities: ['email'], action: 'log', on: ['input', 'output'] },
  ],
  'open',
);
const GUARDED: readonly CompiledGuardrail[] = [...guarded.input, ...guarded.output];

/** Each mode with the policy guardrails it is tested under: `redacted` needs none to stay private. */
const CASES: ReadonlyArray<{ mode: PromptMode; policy: readonly CompiledGuardrail[]; what: string }> = [
  { mode: 'none', policy: [], what: 'no guardrail' },
  { mode: 'redacted', policy: [], what: 'no guardrail' },
  { mode: 'redacted', policy: GUARDED, what: 'secrets and PII guardrails' },
  { mode: 'full', policy: GUARDED, what: 'secrets and PII guardrails' },
];

/** Builds the entry the way the gate does: the mode's redaction rules over the policy's guardrails. */
function entryFor(mode: PromptMode, policy: readonly CompiledGuardrail[]): ReturnType<typeof makeEntry> {
  const prompt = `please check why ${SECRET} fails, with key ${SECRET_OPENAI}, and email ${PII} the result`;
  const output = `I emailed ${PII}.`;
  const rules = auditRedactionRules(mode, policy);
  return makeEntry({
    prompt: recordedText(mode, rules, prompt),
    output: recordedText(mode, rules, output),
    // The raw request headers: the log's own allow-list must drop the credentials.
    headers: { authorization: `Bearer ${VIRTUAL_KEY}`, 'x-api-key': VIRTUAL_KEY, cookie: `session=${VIRTUAL_KEY}`, 'x-goog-api-key': SECRET_OPENAI, 'user-agent': 'OpenAI/JS 6.49.0' } as Record<string, string>,
  });
}

describe('audit privacy at rest', () => {
  for (const { mode, policy, what } of CASES) {
    it(`recordPrompts "${mode}" with ${what}: no secret, PII value or virtual key reaches the files`, async () => {
      const file = path.join(await tempHome(), 'outpost.db');
      const log = AuditLog.open({ file, spoolMaxBytes: 1 << 30, backgroundCheckpoints: false });
      logs.push(log);
      for (let i = 0; i < 3; i++) log.record(entryFor(mode, policy));
      const [rec] = readRecords(log.connection(), { limit: 1 });
      // The record is there and useful: it says what was redacted and keeps the client's name.
      expect(rec?.headers).toEqual({ 'user-agent': 'OpenAI/JS 6.49.0' });
      if (mode === 'none') expect(rec?.prompt).toBeNull();
      else {
        expect(rec?.prompt).toBe('please check why [REDACTED:aws-access-key-id] fails, with key [REDACTED:openai-api-key], and email [REDACTED:email] the result');
        expect(rec?.output).toBe('I emailed [REDACTED:email].');
      }

      const bytes = storeBytes(file);
      expect(bytes.length).toBeGreaterThan(0);
      for (const needle of [SECRET, SECRET_OPENAI, PII, VIRTUAL_KEY]) expect(bytes.includes(needle), needle).toBe(false);
      // And still none after the agent stops (checkpoint moves the WAL into the main file).
      await log.close();
      const after = storeBytes(file);
      for (const needle of [SECRET, SECRET_OPENAI, PII, VIRTUAL_KEY]) expect(after.includes(needle), needle).toBe(false);
    });
  }

  it('keeps the store files (database, WAL, shared memory) readable by their owner only', async () => {
    const file = path.join(await tempHome(), 'outpost.db');
    const previous = process.umask(0o022);
    try {
      const log = AuditLog.open({ file, spoolMaxBytes: 1 << 30, backgroundCheckpoints: false });
      logs.push(log);
      log.record(makeEntry());
    } finally {
      process.umask(previous);
    }
    for (const f of [file, `${file}-wal`, `${file}-shm`]) expect(fs.statSync(f).mode & 0o077, f).toBe(0);
  });
});
