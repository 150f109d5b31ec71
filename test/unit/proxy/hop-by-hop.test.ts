import { describe, expect, it } from 'vitest';
import { clientResponseHeaders, upstreamRequestHeaders } from '../../../agent/proxy/hop-by-hop.js';

describe('hop-by-hop headers (RFC 9110 §7.6.1)', () => {
  it('drops connection-specific fields and those Connection names on the way upstream', () => {
    const out = upstreamRequestHeaders(
      { connection: 'keep-alive, X-Trace', 'x-trace': '1', 'keep-alive': 'timeout=5', te: 'trailers', 'proxy-authorization': 'Basic x', expect: '100-continue', 'content-length': '12', host: 'api.openai.com', authorization: 'Bearer k' },
      false,
    );
    expect(out).toEqual({ host: 'api.openai.com', authorization: 'Bearer k', te: 'trailers' });
  });

  it('keeps TE only as `trailers` (gRPC asks for it; the one value HTTP/2 allows), drops any other', () => {
    expect(upstreamRequestHeaders({ te: 'gzip, trailers' }, false)).toEqual({});
    expect(upstreamRequestHeaders({ te: 'trailers' }, false)).toEqual({ te: 'trailers' });
  });

  it('asks for identity encoding when the tap reads the body', () => {
    expect(upstreamRequestHeaders({ 'accept-encoding': 'gzip, br' }, true)['accept-encoding']).toBe('identity');
  });

  it('marks the decision and drops length only when the tap may change the body', () => {
    const headers = { 'content-type': 'application/json', 'content-length': '10', 'transfer-encoding': 'chunked', connection: 'close' };
    expect(clientResponseHeaders(headers, 'allow', false)).toEqual({ 'content-type': 'application/json', 'content-length': '10', 'x-outpost-decision': 'allow' });
    expect(clientResponseHeaders(headers, 'redact', true)).toEqual({ 'content-type': 'application/json', 'x-outpost-decision': 'redact' });
  });
});
