import { describe, expect, it } from 'vitest';
import { isCertificateRejection, PinningTracker } from '../../../agent/proxy/pinning.js';

describe('pinned-client tracking', () => {
  it('declares a host pinned once, at the threshold', () => {
    const t = new PinningTracker(3);
    expect(t.abort('a.test', 'x')).toBeNull();
    expect(t.abort('a.test', 'x')).toBeNull();
    expect(t.abort('a.test', 'x')).toEqual({ host: 'a.test', aborts: 3, reason: 'x' });
    expect(t.abort('a.test', 'x')).toBeNull();
    expect(t.isPinned('a.test')).toBe(true);
    expect(t.hosts()).toEqual(['a.test']);
  });

  it('forgets earlier aborts after a completed handshake', () => {
    const t = new PinningTracker(2);
    t.abort('b.test', 'x');
    t.succeeded('b.test');
    expect(t.abort('b.test', 'x')).toBeNull();
    expect(t.isPinned('b.test')).toBe(false);
  });

  it('counts certificate alerts, not other handshake errors', () => {
    expect(isCertificateRejection(Object.assign(new Error('alert'), { code: 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA' }))).toBe(true);
    expect(isCertificateRejection(Object.assign(new Error('alert'), { code: 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE' }))).toBe(true);
    expect(isCertificateRejection(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBe(false);
  });
});
