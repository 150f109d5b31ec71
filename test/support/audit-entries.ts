/** Builds audit entries for the audit tests and bench: a plausible allowed request, fields overridable. */
import { randomUUID } from 'node:crypto';
import type { AuditEntry, AuditRecord } from '../../shared/schema/audit.js';
import { GENESIS_HASH, canonicalEntry, hashRecord } from '../../shared/audit/canonical.js';

/** A plausible entry for an allowed chat completion; `over` replaces any field. */
export function makeEntry(over: Partial<AuditEntry> = {}): AuditEntry {
  return {
    id: randomUUID(),
    time: new Date().toISOString(),
    kind: 'request',
    device: 'dev-1',
    user: 'ada@example.org',
    app: 'openai-node',
    host: 'api.openai.com',
    provider: 'openai',
    endpoint: 'chat.completions',
    method: 'POST',
    model: 'gpt-4.1-mini',
    stream: false,
    principal: 'vk:team-a',
    decision: 'allow',
    rules: [],
    status: 200,
    error: null,
    latencyMs: 12.5,
    ttfbMs: 3.25,
    inputTokens: 12,
    outputTokens: 30,
    cachedTokens: 0,
    tokensEstimated: false,
    costUsd: 0.000123,
    priceVersion: 'genai-prices-0.1.8',
    prompt: 'hello',
    output: 'hi there',
    headers: { 'user-agent': 'OpenAI/JS 6.49.0', 'content-type': 'application/json' },
    door: 'proxy',
    ...over,
  };
}

/** `count` records chained from `prevHash` starting at `fromSeq`, as an agent uploads them. */
export function makeChain(count: number, fromSeq = 1, prevHash = GENESIS_HASH, over: Partial<AuditEntry> = {}): AuditRecord[] {
  const out: AuditRecord[] = [];
  let prev = prevHash;
  for (let i = 0; i < count; i++) {
    const entry = makeEntry(over);
    const seq = fromSeq + i;
    const hash = hashRecord(seq, prev, canonicalEntry(entry));
    out.push({ ...entry, seq, prevHash: prev, hash });
    prev = hash;
  }
  return out;
}
