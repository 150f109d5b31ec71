/**
 * `GET /v1/activity` of a real running agent: requests sent through the proxy with the official SDK
 * appear newest first with the rule, its explanation and advice in plain words, never the secret or
 * the prompt; pages follow `before`; the token is required and a bad query names its field.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAiClient } from '../../support/clients.js';
import { startTestAgent, type TestAgent } from '../../support/agent.js';
import { activityPage, type ActivityPage } from '../../../shared/schema/control.js';

const SECRET = 'AKIAIOSFODNN7EXAMPLE';

describe('the control API activity list', () => {
  let t: TestAgent;
  let token: string;

  async function activity(query = ''): Promise<Response> {
    return fetch(`${t.agent.control.url}/v1/activity${query}`, { headers: { authorization: `Bearer ${token}` } });
  }
  async function page(query = ''): Promise<{ page: ActivityPage; text: string }> {
    const res = await activity(query);
    expect(res.status).toBe(200);
    const text = await res.text();
    return { page: activityPage.parse(JSON.parse(text)), text };
  }

  beforeAll(async () => {
    t = await startTestAgent({
      policy: {
        version: 1,
        name: 'activity',
        interception: { hosts: ['api.openai.com'] },
        guardrails: [{ id: 'no-cloud-keys', type: 'secrets', on: ['input'], action: 'block' }],
      },
    });
    token = (await fs.readFile(path.join(t.home, 'control.token'), 'utf8')).trim();
    const sdk = openAiClient({ proxyUrl: t.proxyUrl, ca: t.caPem, maxRetries: 0 });
    for (let i = 0; i < 3; i++) await sdk.client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `hello ${i}` }] });
    await expect(sdk.client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `deploy with ${SECRET}` }] })).rejects.toThrow();
    await sdk.close();
    t.agent.store.audit.flushNow();
  });
  afterAll(async () => t?.close());

  it('shows the blocked request first, with its rule, explanation and advice, and no secret or prompt', async () => {
    const { page: p, text } = await page('?limit=10');
    expect(p.items).toHaveLength(4);
    const [blocked, allowed] = p.items;
    expect(blocked).toMatchObject({ host: 'api.openai.com', provider: 'openai', model: 'gpt-4o-mini', decision: 'block' });
    expect(blocked?.rules.map((r) => r.id)).toContain('no-cloud-keys');
    expect(blocked?.rules.find((r) => r.id === 'no-cloud-keys')?.explanation.length).toBeGreaterThan(5);
    expect(blocked?.advice).toContain('no-cloud-keys');
    expect(blocked?.advice).toMatch(/Remove it and try again/);
    expect(allowed).toMatchObject({ decision: 'allow', advice: null });
    expect(allowed?.outputTokens).toBeGreaterThan(0);
    expect(allowed?.costUsd).toBeGreaterThan(0);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('hello 1');
    expect(p.nextBefore).toBeNull();
  });

  it('pages newest first by `before`, without gaps or repeats', async () => {
    const first = (await page('?limit=3')).page;
    expect(first.items).toHaveLength(3);
    expect(first.nextBefore).toBe(first.items.at(-1)?.seq);
    const second = (await page(`?limit=3&before=${String(first.nextBefore)}`)).page;
    expect(second.items).toHaveLength(1);
    expect(second.nextBefore).toBeNull();
    const seqs = [...first.items, ...second.items].map((i) => i.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    expect(new Set(seqs).size).toBe(4);
  });

  it('keeps its token in a file only this user can read', async () => {
    expect((await fs.stat(path.join(t.home, 'control.token'))).mode & 0o777).toBe(0o600);
  });

  it('refuses a missing token and names a bad query field, with no CORS headers', async () => {
    const anonymous = await fetch(`${t.agent.control.url}/v1/activity`, { headers: { origin: 'https://evil.example' } });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('access-control-allow-origin')).toBeNull();
    const bad = await activity('?limit=5000');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain('limit');
    const extra = await activity('?sort=asc');
    expect(extra.status).toBe(400);
  });
});
