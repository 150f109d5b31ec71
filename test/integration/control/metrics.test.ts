/**
 * `GET /metrics` of a real running agent after traffic through the proxy: requests by decision and
 * provider, the latency histogram, upstream errors, the audit spool, the certificate cache and the
 * event loop's lag, in Prometheus text (prom-client).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAiClient } from '../../support/clients.js';
import { startTestAgent, type TestAgent } from '../../support/agent.js';

/** The value of the first sample line that starts with `prefix`. */
function sample(text: string, prefix: string): number {
  const line = text.split('\n').find((l) => l.startsWith(prefix));
  if (line === undefined) throw new Error(`no sample ${prefix}`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('the control API metrics', () => {
  let t: TestAgent;
  let text: string;

  beforeAll(async () => {
    t = await startTestAgent({
      policy: { version: 1, name: 'metrics', interception: { hosts: ['api.openai.com'] }, guardrails: [{ id: 'no-cloud-keys', type: 'secrets', on: ['input'], action: 'block' }] },
    });
    const sdk = openAiClient({ proxyUrl: t.proxyUrl, ca: t.caPem, maxRetries: 0 });
    await sdk.client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] });
    await expect(sdk.client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'key AKIAIOSFODNN7EXAMPLE' }] })).rejects.toThrow();
    // A provider that breaks off mid-stream: an upstream error.
    t.provider.knobs.resetAfterEvents = 1;
    await expect(
      (async () => {
        const stream = await sdk.client.chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'stream' }] });
        for await (const _chunk of stream) void _chunk;
      })(),
    ).rejects.toThrow();
    t.provider.reset();
    await sdk.close();
    t.agent.store.audit.flushNow();
    const token = (await fs.readFile(path.join(t.home, 'control.token'), 'utf8')).trim();
    const res = await fetch(`${t.agent.control.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    text = await res.text();
  });
  afterAll(async () => t?.close());

  it('counts requests by decision and provider, with latency', () => {
    expect(sample(text, 'outpost_requests_total{decision="allow",provider="openai",kind="request"}')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'outpost_requests_total{decision="block",provider="openai",kind="request"}')).toBe(1);
    expect(sample(text, 'outpost_request_duration_seconds_count{provider="openai"}')).toBeGreaterThanOrEqual(2);
  });

  it('counts the upstream that broke off', () => {
    expect(sample(text, 'outpost_upstream_errors_total{provider="openai"}')).toBe(1);
  });

  it('shows the audit spool, the certificate cache and the event loop lag', () => {
    expect(sample(text, 'outpost_audit_pending_records')).toBe(0);
    expect(sample(text, 'outpost_audit_spool_bytes')).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'outpost_certificate_cache_entries')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'outpost_process_nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
  });
});
