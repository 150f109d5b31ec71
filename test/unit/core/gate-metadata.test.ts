/**
 * Credentials in what a client sends besides the prompt (issue 10.6): a token in the URL query or
 * in a header other than the credential the virtual-key swap owns is a finding of the policy's
 * input `secrets` rules; it is never stored. Generated values only, never real secrets.
 */
import { describe, expect, it } from 'vitest';
import type { PolicyInput } from '../../../shared/schema/policy.js';
import { admit, asForward, asRespond, gateWith, request } from './gate-helpers.js';
import { ALNUM, rand, UPPER_B32 } from './samples.js';

const OPENAI = 'api.openai.com';
const CHAT = '/v1/chat/completions';
const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] };
const secrets = (action: 'block' | 'redact' | 'warn'): Partial<PolicyInput> => ({ guardrails: [{ id: 'secrets', type: 'secrets', action }] });

/** A random value that never reads as words. */
function token(): string {
  let v = '';
  for (let i = 0; i < 16; i++) v += rand('abcdefghijklmnopqrstuvwxyz', 1) + rand('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ', 1);
  return v;
}

describe('gate: credentials in headers and the URL', () => {
  it('a token in the URL query is refused, said to be in the headers or URL, and not recorded', async () => {
    const { gate, audit } = gateWith(secrets('block'));
    const secret = token();
    const r = asRespond(await admit(gate, request(OPENAI, `${CHAT}?access_token=${secret}`, chat)));
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body)).toMatchObject({ error: { code: 'guardrail_blocked' } });
    expect(r.body).toContain("the request's headers or URL");
    expect(audit[0]).toMatchObject({ decision: 'block', rules: [{ id: 'secrets', kind: 'credential-assignment', target: 'request', action: 'block' }] });
    expect(JSON.stringify(audit)).not.toContain(secret);
  });

  it('a known format in any header, and a generic token in a custom header, are refused', async () => {
    const { gate } = gateWith(secrets('block'));
    const ghp = `ghp_${rand(ALNUM, 36)}`;
    const a = asRespond(await admit(gate, request(OPENAI, CHAT, chat, { 'x-forwarded-for-debug': `run by ${ghp}` })));
    expect(a.headers['x-outpost-decision']).toBe('block; code=guardrail_blocked; rules=secrets');
    const b = asRespond(await admit(gate, request(OPENAI, CHAT, chat, { 'x-internal-token': token() })));
    expect(b.status).toBe(403);
  });

  it('a key in the user agent (an allow-listed, recorded header) is refused and redacted from the record', async () => {
    const { gate, audit } = gateWith(secrets('block'));
    const key = `AKIA${rand(UPPER_B32, 16)}`;
    asRespond(await admit(gate, request(OPENAI, CHAT, chat, { 'user-agent': `deploy-bot/1.0 (${key})` })));
    expect(audit[0]?.headers['user-agent']).toBe('deploy-bot/1.0 ([REDACTED:aws-access-key-id])');
    expect(JSON.stringify(audit)).not.toContain(key);
  });

  it('the credential the swap owns is not a finding: a provider key in authorization, a Gemini ?key=', async () => {
    const { gate } = gateWith(secrets('block'));
    const own = asForward(await admit(gate, request(OPENAI, CHAT, chat, { authorization: `Bearer sk-proj-${rand(ALNUM, 48)}` })));
    expect(own.decision).toBe('allow');
    const gemini = asForward(await admit(gate, request('generativelanguage.googleapis.com', `/v1beta/models/gemini-2.5-flash:generateContent?key=AIza${rand(ALNUM, 35)}`, { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] })));
    expect(gemini.decision).toBe('allow');
  });

  it('ordinary SDK headers and queries are not findings', async () => {
    const { gate } = gateWith(secrets('block'));
    const f = asForward(
      await admit(
        gate,
        request(OPENAI, `${CHAT}?api-version=2024-10-21&stream=true`, chat, {
          'x-stainless-package-version': '4.104.0',
          'x-stainless-runtime-version': 'v20.18.0',
          'openai-organization': 'org-acme-engineering',
          traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
          'anthropic-beta': 'token-efficient-tools-2025-02-19',
          'x-request-id': '8e3c1f0a-5b2d-4c7e-9a1f-2d3e4f5a6b7c',
        }),
      ),
    );
    expect(f.decision).toBe('allow');
  });

  it('redact cannot apply to a header or URL: it refuses, and says why', async () => {
    const { gate, audit } = gateWith(secrets('redact'));
    asRespond(await admit(gate, request(OPENAI, `${CHAT}?token=${token()}`, chat)));
    expect(audit[0]?.rules[0]).toMatchObject({ action: 'block', target: 'request', explanation: expect.stringContaining('cannot be redacted in place') });
  });

  it('warn forwards and says so', async () => {
    const { gate, audit } = gateWith(secrets('warn'));
    const f = asForward(await admit(gate, request(OPENAI, `${CHAT}?token=${token()}`, chat)));
    expect(f.decision).toBe('warn; rules=secrets');
    expect(f.path).toContain('token=');
    expect(audit).toHaveLength(0);
  });

  it("a web app's own tokens in headers named like credentials pass; a known format in one does not", async () => {
    const { gate } = gateWith({ ...secrets('block'), interception: { hosts: ['chatgpt.com'] } });
    const body = { action: 'next', model: 'auto', messages: [{ author: { role: 'user' }, content: { content_type: 'text', parts: ['hello'] } }] };
    const ok = asForward(await admit(gate, request('chatgpt.com', '/backend-api/conversation', body, { 'openai-sentinel-chat-requirements-token': token(), 'x-csrf-token': token() })));
    expect(ok.decision).toBe('allow');
    asRespond(await admit(gate, request('chatgpt.com', '/backend-api/conversation', body, { 'x-debug': `sk-proj-${rand(ALNUM, 48)}` })));
  });
});
