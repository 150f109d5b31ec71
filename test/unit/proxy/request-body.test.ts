import { describe, expect, it } from 'vitest';
import { BoundedBody, bodyPlan } from '../../../agent/proxy/request-body.js';

describe('reading a request body, bounded', () => {
  it('plans from the head: streamed, none, too large, read', () => {
    expect(bodyPlan({ headers: { 'content-type': 'application/grpc+proto' } }, 10)).toBe('streamed');
    expect(bodyPlan({ headers: {} }, 10)).toBe('none');
    expect(bodyPlan({ headers: {}, bodyFollows: false }, 10)).toBe('none');
    expect(bodyPlan({ headers: { 'content-length': '11' } }, 10)).toBe('too-large');
    expect(bodyPlan({ headers: { 'content-length': '10' } }, 10)).toBe('read');
    expect(bodyPlan({ headers: { 'transfer-encoding': 'chunked' } }, 10)).toBe('read');
    expect(bodyPlan({ headers: {}, bodyFollows: true }, 10)).toBe('read');
  });

  it('keeps chunks up to the bound, takes one chunk as it came, and refuses past the bound', () => {
    const one = Buffer.from('hello');
    const single = new BoundedBody(10);
    expect(single.add(one)).toBe(true);
    expect(single.take()).toBe(one);
    const joined = new BoundedBody(10);
    expect(joined.add(Buffer.from('hello'))).toBe(true);
    expect(joined.add(Buffer.from('world'))).toBe(true);
    expect(joined.take().toString()).toBe('helloworld');
    expect(joined.add(Buffer.from('!'))).toBe(false);
  });
});
