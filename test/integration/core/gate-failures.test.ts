/**
 * The gate failing inside, through the real engine to the fake provider: a keychain that rejects, a
 * detector that throws, an audit sink that throws, a health check that throws. Under both fail
 * modes, what the provider received (never a virtual key) and what was recorded (the error).
 */
import { fetch as undiciFetch } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import type { GateDeps } from '../../../agent/pipeline/gate.js';
import type { GateFailure } from '../../../agent/pipeline/gate-failure.js';
import { DETECTORS } from '../../../shared/core/guardrails/registry.js';
import type { PolicyInput } from '../../../shared/schema/policy.js';
import type { RecordedRequest } from '../../support/fake-provider.js';
import { dispatcherFor } from '../../support/clients.js';
import { startGatewayWorld, type GatewayWorld } from './world.js';

const VK = 'ovk-eng-4f9c2a7e1b';
const keys: Partial<PolicyInput> = {
  virtualKeys: [{ id: 'vk-eng', key: VK, owner: 'team:engineering', providerKeys: { openai: 'keychain:openai-eng', gemini: 'keychain:gemini-eng' } }],
};
const stored = { 'keychain:openai-eng': 'sk-real-openai', 'keychain:gemini-eng': 'AIza-real-gemini' };

/** A keychain whose daemon fails (what keytar reports when the collection is locked). */
const lockedKeychain: GateDeps['secrets'] = { resolve: () => Promise.reject(new Error('org.freedesktop.Secret.Error.IsLocked: the collection is locked')) };

/** A detector registry whose `regex` detector throws: a guardrail bug, built in, no module mock. */
const brokenRegex = { ...DETECTORS, regex: () => ({ scan: (): never => { throw new Error('regex detector broke'); }, explain: () => 'broken' }) };
const regexRule: Partial<PolicyInput> = { guardrails: [{ id: 'custom', type: 'regex', pattern: 'zzz', action: 'block' }] };

let world: GatewayWorld | null = null;
afterEach(async () => {
  await world?.close();
  world = null;
});

async function start(failMode: 'open' | 'closed', input: Partial<PolicyInput>, deps: Partial<Omit<GateDeps, 'policy' | 'identity'>> = {}): Promise<{ w: GatewayWorld; failures: GateFailure[] }> {
  const failures: GateFailure[] = [];
  const w = await startGatewayWorld({ ...keys, failMode, ...input }, stored, {}, { onFailure: (f) => failures.push(f), ...deps });
  world = w;
  return { w, failures };
}

async function send(w: GatewayWorld, url: string, headers: Record<string, string>, body: object): Promise<{ status: number; decision: string | null; body: string }> {
  const dispatcher = dispatcherFor({ proxyUrl: w.proxyUrl, ca: w.caPem });
  try {
    const res = await undiciFetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body), dispatcher });
    return { status: res.status, decision: res.headers.get('x-outpost-decision'), body: await res.text() };
  } finally {
    await dispatcher.close();
  }
}

const chat = (w: GatewayWorld, headers: Record<string, string> = { authorization: `Bearer ${VK}` }) =>
  send(w, 'https://api.openai.com/v1/chat/completions', headers, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] });

/** Nothing of the virtual key anywhere the provider could read it. */
function expectNoVirtualKey(seen: RecordedRequest | undefined): void {
  expect(seen).toBeDefined();
  expect(seen?.path).not.toContain('ovk-');
  expect(seen?.rawHeaders.join('\n')).not.toContain('ovk-');
  expect(seen?.rawHeaders.join('\n')).not.toContain(VK);
}

describe('fail open: an internal failure forwards, never with a virtual key, and is recorded', () => {
  it('a rejecting keychain: forwarded without any credential, recorded as error-open', async () => {
    const { w, failures } = await start('open', {}, { secrets: lockedKeychain });
    const r = await chat(w, { authorization: `Bearer ${VK}`, 'x-outpost-vk': VK, 'x-trace': VK });
    expect(r.decision).toBe('error-open; code=internal_error; rules=gate');
    const seen = w.world.provider.requests.at(-1);
    expectNoVirtualKey(seen);
    expect(seen?.headers.authorization).toBeUndefined();
    expect(w.audit).toHaveLength(1);
    expect(w.audit[0]).toMatchObject({ decision: 'error', status: null, rules: [{ id: 'gate', kind: 'internal-error', action: 'log' }] });
    expect(w.audit[0]?.error).toContain('collection is locked');
    expect(failures).toEqual([expect.objectContaining({ stage: 'keychain', failMode: 'open' })]);
    expect(w.gate.health()).toMatchObject({ failures: 1, degraded: true, last: { stage: 'keychain' } });
  });

  it('a rejecting keychain with the key in ?key= (Gemini): the query key is stripped too', async () => {
    const { w } = await start('open', {}, { secrets: lockedKeychain });
    const r = await send(w, `https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent?key=${VK}&alt=json`, {}, { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] });
    expect(r.decision).toContain('error-open');
    const seen = w.world.provider.requests.at(-1);
    expectNoVirtualKey(seen);
    expect(seen?.path).toBe('/v1beta/models/gemini-2.5-flash:generateContent?alt=json');
  });

  it('a throwing detector: the decision goes on (key swapped), the error is recorded and counted', async () => {
    const { w, failures } = await start('open', regexRule, { detectors: brokenRegex });
    const r = await chat(w);
    expect(r.status).toBe(200);
    const seen = w.world.provider.requests.at(-1);
    expectNoVirtualKey(seen);
    expect(seen?.headers.authorization).toBe('Bearer sk-real-openai');
    expect(w.audit.at(-1)).toMatchObject({ decision: 'allow', principal: 'vk:vk-eng' });
    expect(w.audit.at(-1)?.rules).toEqual([expect.objectContaining({ id: 'custom', kind: 'detector-error', action: 'log' })]);
    expect(failures.map((f) => f.stage)).toContain('detector');
  });

  it('a throwing audit sink: the request goes on as decided, the failure is counted', async () => {
    const { w, failures } = await start('open', {}, { audit: { record: () => { throw new Error('SQLITE_IOERR: disk I/O error'); } } });
    const first = await chat(w);
    const second = await chat(w);
    expect([first.status, second.status]).toEqual([200, 200]);
    for (const seen of w.world.provider.requests) {
      expectNoVirtualKey(seen);
      expect(seen.headers.authorization).toBe('Bearer sk-real-openai');
    }
    expect(failures.filter((f) => f.stage === 'audit')).toHaveLength(2);
    expect(failures[0]?.message).toContain('disk I/O error');
  });

  it('a health check that throws (a bug): forwarded with the virtual key stripped, recorded', async () => {
    const { w, failures } = await start('open', {}, { auditHealth: { canAccept: () => { throw new TypeError('health is not a function'); }, health: () => ({}) } });
    const r = await chat(w);
    expect(r.decision).toContain('error-open');
    expectNoVirtualKey(w.world.provider.requests.at(-1));
    expect(w.audit.at(-1)).toMatchObject({ decision: 'error', error: expect.stringContaining('TypeError: health is not a function') });
    expect(failures).toEqual([expect.objectContaining({ stage: 'admit' })]);
  });
});

describe('fail closed: an internal failure is a provider-shaped 503 and nothing leaves', () => {
  it('a rejecting keychain: 503 in OpenAI shape, the provider sees nothing, recorded as error-closed', async () => {
    const { w, failures } = await start('closed', {}, { secrets: lockedKeychain });
    const r = await chat(w);
    expect(r.status).toBe(503);
    expect(r.decision).toBe('error-closed; code=internal_error; rules=gate');
    expect(JSON.parse(r.body)).toMatchObject({ error: { code: 'internal_error' } });
    expect(r.body).not.toContain('ovk-');
    expect(w.world.provider.requests).toHaveLength(0);
    expect(w.audit).toEqual([expect.objectContaining({ decision: 'error', status: 503, rules: [expect.objectContaining({ kind: 'internal-error', action: 'deny' })] })]);
    expect(failures).toEqual([expect.objectContaining({ stage: 'keychain', failMode: 'closed' })]);
  });

  it('a throwing detector: blocked, recorded with the detector error', async () => {
    const { w } = await start('closed', regexRule, { detectors: brokenRegex });
    const r = await chat(w);
    expect(r.status).toBe(403);
    expect(w.world.provider.requests).toHaveLength(0);
    expect(w.audit.at(-1)).toMatchObject({ decision: 'block', rules: [expect.objectContaining({ kind: 'detector-error', action: 'block' })] });
  });

  it('a throwing audit sink: once a record is refused, requests are refused until one is taken', async () => {
    let broken = false;
    const taken: string[] = [];
    const audit = {
      record: (e: { decision: string }): void => {
        if (broken) throw new Error('SQLITE_FULL: database or disk is full');
        taken.push(e.decision);
      },
    };
    const { w } = await start('closed', {}, { audit });
    expect((await chat(w)).status).toBe(200);
    broken = true;
    // Admitted while the sink was healthy: its record is what finds the sink broken.
    expect((await chat(w)).status).toBe(200);
    const refused = await chat(w);
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.body)).toMatchObject({ error: { code: 'audit_unavailable' } });
    expect(w.world.provider.requests).toHaveLength(2);
    broken = false;
    // The refusal's own record is taken again: the next request goes through.
    expect((await chat(w)).status).toBe(503);
    expect((await chat(w)).status).toBe(200);
    expect(taken).toEqual(['allow', 'block', 'allow']);
  });
});
