/**
 * Budgets under concurrency, end to end: 50 concurrent streaming requests against a budget with
 * room for 10 reservations. Admitted streams are held open at the provider, so every reservation is
 * in flight at once; at most 10 may reach the provider, the rest get 402 before leaving the machine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { genaiPriceTable } from '../../../shared/core/pricing.js';
import { estimateInputTokens } from '../../../shared/core/tokens.js';
import { fetchFor } from '../../support/clients.js';
import { startGatewayWorld, until, type GatewayWorld } from './world.js';

const MAX_TOKENS = 1000;
const PROMPT = 'hi';

describe('budget reservations under concurrency', () => {
  let w: GatewayWorld;

  beforeAll(async () => {
    const rates = genaiPriceTable('x').rates('openai', 'gpt-4o-mini', new Date())!;
    const estimate = estimateInputTokens(PROMPT.length) * rates.inputUsd + MAX_TOKENS * rates.outputUsd;
    w = await startGatewayWorld({ defaults: { budget: { limitUsd: estimate * 10.5, period: '1d' } } });
  });
  afterAll(async () => {
    await w?.close();
  });

  it('50 concurrent requests against a budget that fits 10: 10 reach the provider, 40 get 402', async () => {
    w.world.provider.knobs.holdAfterEvents = 1;
    const { client: fetch, close } = fetchFor({ proxyUrl: w.proxyUrl, ca: w.caPem });
    try {
      const statuses: number[] = [];
      const bodies: Array<Promise<string>> = [];
      const requests = Array.from({ length: 50 }, () =>
        fetch('https://api.openai.com/v1/chat/completions', {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: 'Bearer sk-user-own-key' },
          body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, max_tokens: MAX_TOKENS, messages: [{ role: 'user', content: PROMPT }] }),
        }).then((r) => {
          statuses.push(r.status);
          bodies.push(r.text());
        }),
      );
      const refused = (): number => statuses.filter((s) => s === 402).length;
      await until(() => refused() + w.world.provider.requests.length >= 50, 'every request to be refused or reach the provider');
      expect(w.world.provider.requests).toHaveLength(10);
      expect(refused()).toBe(40);
      w.world.provider.release();
      await Promise.all(requests);
      await Promise.all(bodies);
      expect(statuses.filter((s) => s === 200)).toHaveLength(10);
      const settled = w.audit.filter((e) => e.status === 200);
      expect(settled).toHaveLength(10);
      expect(settled.every((e) => e.costUsd !== null && e.costUsd > 0 && !e.tokensEstimated)).toBe(true);
    } finally {
      await close();
    }
  });
});
