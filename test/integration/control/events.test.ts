/**
 * `GET /v1/events` of a real running agent: the status arrives first, a blocked request through the
 * proxy arrives as a `decision` event with its rule and advice (never the secret), and a budget's
 * crossing of its limit arrives as a `budget` event once per window. Waits are on the events
 * themselves, read from the live stream.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAiClient } from '../../support/clients.js';
import { startTestAgent, type TestAgent } from '../../support/agent.js';
import { controlEvent, type ControlEvent } from '../../../shared/schema/control.js';

const SECRET = 'AKIAIOSFODNN7EXAMPLE';
const VK = 'ovk-events-0123456789';

/** Reads a live SSE stream and hands out its events as they come. */
class EventReader {
  readonly raw: string[] = [];
  private readonly events: ControlEvent[] = [];
  private waiters: Array<() => void> = [];
  private buffer = '';

  constructor(private readonly body: ReadableStream<Uint8Array>) {
    void this.pump();
  }

  private async pump(): Promise<void> {
    const decoder = new TextDecoder();
    const reader = this.body.getReader();
    for (;;) {
      const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
      if (done) return;
      this.buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = this.buffer.indexOf('\n\n')) >= 0) {
        const block = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        this.raw.push(block);
        const data = block.split('\n').find((l) => l.startsWith('data: '));
        if (data !== undefined) this.events.push(controlEvent.parse(JSON.parse(data.slice(6))));
        for (const w of this.waiters.splice(0)) w();
      }
    }
  }

  /** The first event (from the start of the stream) that matches. */
  async next<T extends ControlEvent['type']>(type: T, match: (e: Extract<ControlEvent, { type: T }>) => boolean = () => true): Promise<Extract<ControlEvent, { type: T }>> {
    for (;;) {
      const hit = this.events.find((e): e is Extract<ControlEvent, { type: T }> => e.type === type && match(e as Extract<ControlEvent, { type: T }>));
      if (hit !== undefined) return hit;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  count(type: ControlEvent['type']): number {
    return this.events.filter((e) => e.type === type).length;
  }

  ofType<T extends ControlEvent['type']>(type: T): Array<Extract<ControlEvent, { type: T }>> {
    return this.events.filter((e): e is Extract<ControlEvent, { type: T }> => e.type === type);
  }
}

describe('the control API event stream', () => {
  let t: TestAgent;
  let token: string;
  let abort: AbortController;
  let reader: EventReader;

  beforeAll(async () => {
    t = await startTestAgent({
      policy: {
        version: 1,
        name: 'events',
        interception: { hosts: ['api.openai.com'] },
        guardrails: [{ id: 'no-cloud-keys', type: 'secrets', on: ['input'], action: 'block' }],
        // A budget a few dozen small requests spend.
        virtualKeys: [{ id: 'vk-tiny', key: VK, owner: 'org', providerKeys: { openai: 'keychain:openai-events' }, budget: { limitUsd: 0.0002, period: '1d' } }],
      },
    });
    await t.agent.ca.keychain.set('secret:openai-events', 'sk-real-events');
    token = (await fs.readFile(path.join(t.home, 'control.token'), 'utf8')).trim();
    abort = new AbortController();
    const res = await fetch(`${t.agent.control.url}/v1/events`, { headers: { authorization: `Bearer ${token}` }, signal: abort.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    reader = new EventReader(res.body as ReadableStream<Uint8Array>);
  });
  afterAll(async () => {
    abort?.abort();
    await t?.close();
  });

  it('starts with the status', async () => {
    const status = await reader.next('status');
    expect(['protected', 'degraded']).toContain(status.state);
    expect(status.state === 'degraded').toBe(status.degraded.length > 0);
  });

  it('announces a blocked request with its rule and advice, never the secret', async () => {
    const sdk = openAiClient({ proxyUrl: t.proxyUrl, ca: t.caPem, maxRetries: 0 });
    await expect(sdk.client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `deploy with ${SECRET}` }] })).rejects.toThrow();
    await sdk.close();
    const event = await reader.next('decision', (e) => e.item.decision === 'block');
    expect(event.item.rules.map((r) => r.id)).toContain('no-cloud-keys');
    expect(event.item.advice).toContain('no-cloud-keys');
    expect(reader.raw.join('\n')).not.toContain(SECRET);
  });

  it('announces a budget passing 80% once, the refusal when it is spent, and nothing for plain allows', async () => {
    const sdk = openAiClient({ proxyUrl: t.proxyUrl, ca: t.caPem, maxRetries: 0, apiKey: VK });
    let allowed = 0;
    let refusal: unknown = null;
    // Spend until the budget refuses (bounded: each request costs a fixed share of the limit).
    for (let i = 0; i < 500 && refusal === null; i++) {
      try {
        await sdk.client.chat.completions.create({ model: 'gpt-4o-mini', max_tokens: 10, messages: [{ role: 'user', content: `hello ${i}` }] });
        allowed++;
      } catch (err) {
        refusal = err;
      }
    }
    await sdk.close();
    expect((refusal as { status?: number } | null)?.status).toBe(402);
    expect(allowed).toBeGreaterThan(3);
    const eighty = await reader.next('budget', (e) => e.budgetId === 'vk:vk-tiny');
    expect(eighty.threshold).toBe(80);
    expect(eighty.spentUsd / eighty.limitUsd).toBeGreaterThanOrEqual(0.8);
    const refused = await reader.next('decision', (e) => e.item.advice?.includes('budget') === true);
    expect(refused.item.decision).toBe('block');
    const thresholds = reader.ofType('budget').filter((e) => e.budgetId === 'vk:vk-tiny').map((e) => e.threshold);
    expect(thresholds.length).toBe(new Set(thresholds).size);
    // Decisions: the blocked secret and the budget refusal only; the plain allows sent none.
    expect(reader.count('decision')).toBe(2);
  });
});
