/**
 * Privacy end to end: the real interception engine and the real gate record into the real audit
 * store while a client sends a secret, a PII value and a virtual key through the proxy. Guardrails
 * only `log` here, so the provider receives the prompt and echoes it back: the record is the only
 * place where redaction happens, and none of the three may reach the store's files in clear.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../../agent/audit/audit-log.js';
import { readRecords } from '../../../agent/audit/records.js';
import { verifyChain } from '../../../agent/audit/verify.js';
import { createGate } from '../../../agent/pipeline/gate.js';
import { policy } from '../../../shared/schema/policy.js';
import { fetchFor } from '../../support/clients.js';
import { startWorld, type ProxyWorld } from '../proxy/harness.js';
import { tempHome } from './temp-home.js';

// Built at run time so that this file does not trip secret scanners.
const SECRET = ['AKIA', 'Q3EGRKCV7L2ZXW5T'].join('');
const PII = 'grace.hopper@navy.example.org';
const VIRTUAL_KEY = ['vk-outpost-', '7f3a9c2e4b1d8f60'].join('');
const PROVIDER_KEY = ['sk-provider-', 'real-9d8c7b6a'].join('');
const HOSTS = ['api.openai.com'];

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

function storeBytes(file: string): string {
  return ['', '-wal', '-shm']
    .map((s) => `${file}${s}`)
    .filter((f) => fs.existsSync(f))
    .map((f) => fs.readFileSync(f).toString('latin1'))
    .join('\n');
}

async function world(mode: 'none' | 'redacted' | 'full'): Promise<{ w: ProxyWorld; log: AuditLog; file: string }> {
  const file = path.join(await tempHome(), 'outpost.db');
  const log = AuditLog.open({ file, spoolMaxBytes: 1 << 30, backgroundCheckpoints: false });
  cleanup.push(() => log.close());
  const gate = createGate({
    policy: policy.parse({
      version: 1,
      name: 'privacy',
      interception: { hosts: HOSTS },
      virtualKeys: [{ id: 'team-a', key: VIRTUAL_KEY, owner: 'team:a', providerKeys: { openai: 'keychain:openai' } }],
      guardrails: [
        { id: 'secrets', type: 'secrets', on: ['input', 'output'], action: 'log' },
        { id: 'pii', type: 'pii', on: ['input', 'output'], action: 'log' },
      ],
      audit: { recordPrompts: mode },
    }),
    audit: log,
    secrets: { resolve: async (ref) => (ref === 'keychain:openai' ? PROVIDER_KEY : null) },
    identity: { device: 'dev-privacy', user: 'jane@acme.example' },
  });
  const w = await startWorld({ hosts: HOSTS, gate: () => gate });
  cleanup.push(() => w.close());
  return { w, log, file };
}

describe('audit privacy through the engine and the gate', () => {
  for (const mode of ['none', 'redacted', 'full'] as const) {
    it(`recordPrompts "${mode}": the secret, the PII value and the virtual key are not in the store's files`, async () => {
      const { w, log, file } = await world(mode);
      const { client: fetch, close } = fetchFor({ proxyUrl: w.engine.url, ca: w.ca.caPem });
      cleanup.push(close);
      for (const stream of [false, true]) {
        const res = await fetch('https://api.openai.com/v1/chat/completions', {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${VIRTUAL_KEY}`, cookie: `session=${VIRTUAL_KEY}` },
          body: JSON.stringify({ model: 'gpt-4o-mini', stream, messages: [{ role: 'user', content: `my key is ${SECRET}, mail ${PII}` }] }),
        });
        const text = await res.text();
        expect(res.status).toBe(200);
        expect(text).toContain(PII); // the guardrails only log: the answer really carried it
      }
      // The provider got the real key, never the virtual one.
      expect(w.provider.requests.map((r) => r.headers.authorization)).toEqual([`Bearer ${PROVIDER_KEY}`, `Bearer ${PROVIDER_KEY}`]);

      const records = readRecords(log.connection());
      expect(records).toHaveLength(2);
      expect(records.every((r) => r.principal === 'vk:team-a' && r.status === 200)).toBe(true);
      expect(records[0]?.rules.map((r) => r.id)).toEqual(expect.arrayContaining(['secrets', 'pii']));
      if (mode === 'none') {
        expect(records.every((r) => r.prompt === null && r.output === null)).toBe(true);
      } else {
        for (const r of records) {
          expect(r.prompt).toMatch(/REDACTED/);
          expect(r.output).toMatch(/REDACTED/);
        }
      }
      for (const r of records) expect(Object.keys(r.headers).some((h) => /authorization|cookie|key/i.test(h))).toBe(false);
      expect(verifyChain(log.connection()).ok).toBe(true);

      for (const needle of [SECRET, PII, VIRTUAL_KEY, PROVIDER_KEY]) expect(storeBytes(file).includes(needle), needle).toBe(false);
      await log.close();
      for (const needle of [SECRET, PII, VIRTUAL_KEY, PROVIDER_KEY]) expect(storeBytes(file).includes(needle), needle).toBe(false);
    });
  }
});
