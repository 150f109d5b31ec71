/**
 * Credentials outside the prompt, through the real engine (issue 10.6): a token in the URL query or
 * a custom header of a real client's request is refused before it leaves the machine, and neither
 * the record nor anything the provider received holds it. Generated values only.
 */
import { fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatcherFor } from '../../support/clients.js';
import { rand } from '../../unit/core/samples.js';
import { startGatewayWorld, type GatewayWorld } from './world.js';

/** A random value that never reads as words. */
function token(): string {
  let v = '';
  for (let i = 0; i < 16; i++) v += rand('abcdefghijklmnopqrstuvwxyz', 1) + rand('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ', 1);
  return v;
}

describe('credentials in headers and the URL, through the proxy', () => {
  let w: GatewayWorld;
  beforeAll(async () => {
    w = await startGatewayWorld({ guardrails: [{ id: 'secrets', type: 'secrets', action: 'block' }] });
  });
  afterAll(async () => w?.close());

  async function send(path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
    const dispatcher = dispatcherFor({ proxyUrl: w.proxyUrl, ca: w.caPem });
    try {
      const res = await undiciFetch(`https://api.openai.com${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer sk-user-own-key', ...headers },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] }),
        dispatcher,
      });
      return { status: res.status, body: await res.text() };
    } finally {
      await dispatcher.close();
    }
  }

  it('refuses a query token and a header token; the provider sees neither, the records hold neither', async () => {
    const inQuery = token();
    const inHeader = token();
    const a = await send(`/v1/chat/completions?access_token=${inQuery}`, {});
    const b = await send('/v1/chat/completions', { 'x-service-token': inHeader });
    expect([a.status, b.status]).toEqual([403, 403]);
    expect(a.body).toContain("the request's headers or URL");
    expect(w.world.provider.requests).toHaveLength(0);
    const recorded = JSON.stringify(w.audit);
    expect(w.audit.map((e) => e.decision)).toEqual(['block', 'block']);
    expect(recorded).not.toContain(inQuery);
    expect(recorded).not.toContain(inHeader);
    // The same request without them goes through.
    expect((await send('/v1/chat/completions', {})).status).toBe(200);
  });
});
