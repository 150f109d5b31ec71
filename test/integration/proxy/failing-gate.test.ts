import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import type { Gate, ResponseTap } from '../../../agent/pipeline/seam.js';
import { dispatcherFor } from '../../support/clients.js';
import { connectTls, startWorld } from './harness.js';

/** A tap whose every method throws. */
const brokenTap: ResponseTap = {
  readsBody: false,
  stopped: false,
  head: () => {
    throw new Error('tap head broke');
  },
  chunk: () => {
    throw new Error('tap chunk broke');
  },
  end: () => {
    throw new Error('tap end broke');
  },
  fail: () => {
    throw new Error('tap fail broke');
  },
  unchecked: () => {
    throw new Error('tap unchecked broke');
  },
  refuse: () => {
    throw new Error('tap refuse broke');
  },
};

describe('a failing gate never takes the agent down', () => {
  it('fails open: classification errors tunnel, tap errors pass the bytes untouched, and both are reported', async () => {
    const errors: string[] = [];
    const world = await startWorld({
      failMode: 'open',
      gate: (base): Gate => ({
        ...base,
        failMode: 'open',
        classify: (host) => {
          if (host === 'api.mistral.ai') throw new Error('classifier broke');
          return base.classify(host);
        },
        admit: (req) => ({ kind: 'forward', path: req.path, headers: req.headers, body: req.body, decision: 'allow', tap: brokenTap }),
      }),
      engine: { onError: (_err, where) => errors.push(where) },
    });
    const dispatcher = dispatcherFor({ proxyUrl: world.engine.url, ca: world.ca.caPem });
    try {
      const res = await request('https://api.openai.com/v1/models', { dispatcher });
      expect(res.statusCode).toBe(200);
      expect(((await res.body.json()) as { data: unknown[] }).data.length).toBeGreaterThan(0);
      const tunnelled = await connectTls(world.engine, 'api.mistral.ai:443', world.ca.caPem);
      tunnelled.destroy();
      expect(world.engine.stats().tunnelled).toBe(1);
      expect(errors).toEqual(expect.arrayContaining(['response tap head', 'classify api.mistral.ai']));
    } finally {
      await dispatcher.close();
      await world.close();
    }
  });

  it('a gate whose admit throws (against its contract) gets an error answer, even under fail open: nothing is forwarded', async () => {
    const errors: string[] = [];
    const world = await startWorld({
      failMode: 'open',
      gate: (base): Gate => ({
        ...base,
        failMode: 'open',
        admit: () => {
          throw new Error('admit broke');
        },
      }),
      engine: { onError: (_err, where) => errors.push(where) },
    });
    const dispatcher = dispatcherFor({ proxyUrl: world.engine.url, ca: world.ca.caPem });
    try {
      const res = await request('https://api.openai.com/v1/chat/completions', { dispatcher, method: 'POST', headers: { authorization: 'Bearer ovk-would-leak-1234', 'content-type': 'application/json' }, body: '{}' });
      expect(res.statusCode).toBe(502);
      expect(((await res.body.json()) as { error: { type: string } }).error.type).toBe('internal_error');
      expect(world.provider.requests).toHaveLength(0);
      expect(errors).toContain('gate admit');
    } finally {
      await dispatcher.close();
      await world.close();
    }
  });

  it('fails closed: a tap error ends the exchange with a provider-shaped error', async () => {
    const world = await startWorld({
      failMode: 'closed',
      gate: (base): Gate => ({
        ...base,
        failMode: 'closed',
        admit: (req) => ({ kind: 'forward', path: req.path, headers: req.headers, body: req.body, decision: 'allow', tap: brokenTap }),
      }),
    });
    const dispatcher = dispatcherFor({ proxyUrl: world.engine.url, ca: world.ca.caPem });
    try {
      const res = await request('https://api.openai.com/v1/models', { dispatcher });
      expect(res.statusCode).toBe(502);
      expect(((await res.body.json()) as { error: { type: string } }).error.type).toBe('internal_error');
      const again = await request('https://api.openai.com/v1/models', { dispatcher });
      expect(again.statusCode).toBe(502);
      await again.body.text();
    } finally {
      await dispatcher.close();
      await world.close();
    }
  });
});
