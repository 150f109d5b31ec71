import { describe, expect, it } from 'vitest';
import { forwardTarget, isLocalHost, parseAuthority } from '../../../agent/proxy/authority.js';
import { ProxyError } from '../../../agent/proxy/errors.js';

describe('CONNECT authorities', () => {
  it('normalises host names and keeps IPv6 literals', () => {
    expect(parseAuthority('API.OpenAI.com.:443')).toEqual({ host: 'api.openai.com', port: 443 });
    expect(parseAuthority('[::1]:8443')).toEqual({ host: '::1', port: 8443 });
    expect(parseAuthority('10.0.0.1:80')).toEqual({ host: '10.0.0.1', port: 80 });
  });

  it('refuses what is not host:port with a stable code', () => {
    for (const bad of ['', 'api.openai.com', 'api.openai.com:0', 'api.openai.com:65536', 'a b:443', '[::1]443', 'x:44a', '-bad-.com:443']) {
      expect(() => parseAuthority(bad), bad).toThrow(expect.objectContaining({ code: 'PROXY_BAD_AUTHORITY', status: 400 }));
    }
  });

  it('knows the names of this machine', () => {
    for (const h of ['localhost', '127.0.0.1', '127.1.2.3', '::1', '0.0.0.0', 'app.localhost']) expect(isLocalHost(h), h).toBe(true);
    expect(isLocalHost('api.openai.com')).toBe(false);
  });

  it('splits absolute-form targets into authority and origin-form path', () => {
    expect(forwardTarget('http://example.org/a?b=c')).toEqual([{ host: 'example.org', port: 80 }, '/a?b=c']);
    expect(forwardTarget('http://example.org:8080')).toEqual([{ host: 'example.org', port: 8080 }, '/']);
    expect(forwardTarget('http://example.org?x=1')).toEqual([{ host: 'example.org', port: 80 }, '/?x=1']);
    expect(forwardTarget('https://example.org/')).toBeInstanceOf(ProxyError);
  });
});
