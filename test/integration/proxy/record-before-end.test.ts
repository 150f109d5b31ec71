/**
 * The crash guarantee's ordering, engine side: a governed response is completed for the client only
 * once the gate says its record is durable (`Gate.whenRecorded`), while its head and stream chunks
 * go out at once. Proved by a gate that stalls the "commit" until the test releases it.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gate, Respond, ResponseTap } from '../../../agent/pipeline/seam.js';
import { dispatcherFor } from '../../support/clients.js';
import { startWorld, until, type ProxyWorld } from './harness.js';

/** A tap that "records" in `end()`, as the gate's does. */
class EndingTap implements ResponseTap {
  readonly readsBody = true;
  stopped = false;
  ended = false;
  head(_status: number, _headers: IncomingHttpHeaders): boolean {
    return false;
  }
  chunk(data: Buffer): Buffer {
    return data;
  }
  end(): null {
    this.ended = true;
    return null;
  }
  fail(): void {}
  unchecked(): void {}
  refuse(): Respond {
    return { kind: 'respond', status: 502, headers: { 'content-type': 'application/json' }, body: '{}' };
  }
}

const settle = (ms: number): Promise<'pending'> => new Promise((r) => setTimeout(() => r('pending'), ms));

describe('a governed response ends only once its record is durable', () => {
  let world: ProxyWorld;
  let dispatcher: ReturnType<typeof dispatcherFor>;
  const taps: EndingTap[] = [];
  /** Stalled commits: each releases the responses waiting on it. */
  const stalled: Array<() => void> = [];
  const release = (): void => {
    for (const cb of stalled.splice(0)) cb();
  };
  const chat = (body: object) =>
    request('https://api.openai.com/v1/chat/completions', { dispatcher, method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test' }, body: JSON.stringify(body) });

  beforeAll(async () => {
    world = await startWorld({
      gate: (base): Gate => ({
        ...base,
        admit(req) {
          const tap = new EndingTap();
          taps.push(tap);
          return { kind: 'forward', path: req.path, headers: req.headers, body: req.body, decision: 'allow', tap };
        },
        whenRecorded(callback) {
          stalled.push(callback);
        },
      }),
    });
    dispatcher = dispatcherFor({ proxyUrl: world.engine.url, ca: world.ca.caPem });
  });
  afterAll(async () => {
    release();
    await dispatcher.close();
    await world.close();
  });

  it('holds the last bytes of a length-delimited JSON answer until the commit, then completes it', async () => {
    // A small answer is one chunk: its head rides with it, so nothing at all reaches the client first.
    const answer = chat({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }).then(async (res) => ({ res, text: await res.body.text() }));
    await until(() => taps.at(-1)?.ended === true && stalled.length === 1, 'the record to be made');
    expect(await Promise.race([answer, settle(150)])).toBe('pending');
    release();
    const { res, text } = await answer;
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-length']).toBe(String(Buffer.byteLength(text)));
    expect(JSON.parse(text)).toMatchObject({ object: 'chat.completion' });
  });

  it('sends a stream’s head and events at once, and its end only after the commit', async () => {
    world.provider.knobs.chunks = 3;
    const res = await chat({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    expect(res.statusCode).toBe(200);
    const reader = res.body[Symbol.asyncIterator]();
    const first = await reader.next();
    expect(first.done).toBe(false);
    expect(String(first.value)).toContain('data:');
    await until(() => taps.at(-1)?.ended === true && stalled.length === 1, 'the record to be made');
    const drain = (async () => {
      let all = String(first.value);
      for (let r = await reader.next(); r.done !== true; r = await reader.next()) all += String(r.value);
      return all;
    })();
    expect(await Promise.race([drain, settle(150)])).toBe('pending');
    release();
    expect(await drain).toContain('[DONE]');
    world.provider.reset();
  });
});
