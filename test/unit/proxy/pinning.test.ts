import { describe, expect, it } from 'vitest';
import { describeClient, isCertificateRejection, PinningTracker, type ClientIdentity } from '../../../agent/proxy/pinning.js';

const app: ClientIdentity = { app: 'ChatGPT/1.2024', fingerprint: 'aaaaaaaaaaaa', alpn: ['h2', 'http/1.1'] };
const other: ClientIdentity = { app: 'curl/8.5.0', fingerprint: 'bbbbbbbbbbbb', alpn: ['http/1.1'] };

describe('pinned-client tracking', () => {
  it('declares a client pinned for a host once, at the threshold, and that client only', () => {
    const t = new PinningTracker({ threshold: 3 });
    expect(t.abort('a.test', app, 'x')).toBeNull();
    expect(t.abort('a.test', app, 'x')).toBeNull();
    expect(t.abort('a.test', app, 'x')).toMatchObject({ host: 'a.test', aborts: 3, reason: 'x', client: describeClient(app) });
    expect(t.abort('a.test', app, 'x')).toBeNull();
    expect(t.pinned('a.test', app)).not.toBeNull();
    expect(t.pinned('a.test', other)).toBeNull();
    expect(t.pinned('b.test', app)).toBeNull();
    expect(t.list().map((p) => p.host)).toEqual(['a.test']);
  });

  it('counts each client apart: two clients aborting once each pin neither', () => {
    const t = new PinningTracker({ threshold: 2 });
    t.abort('a.test', app, 'x');
    expect(t.abort('a.test', other, 'x')).toBeNull();
    expect(t.list()).toEqual([]);
  });

  it('forgets earlier aborts after a completed handshake', () => {
    const t = new PinningTracker({ threshold: 2 });
    t.abort('b.test', app, 'x');
    t.succeeded('b.test', app);
    expect(t.abort('b.test', app, 'x')).toBeNull();
    expect(t.pinned('b.test', app)).toBeNull();
  });

  it('counts aborts within the window only, and lets a pin expire', () => {
    let now = 1_000_000;
    const t = new PinningTracker({ threshold: 2, windowMs: 1000, ttlMs: 5000, now: () => now });
    t.abort('c.test', app, 'x');
    now += 1001;
    expect(t.abort('c.test', app, 'x')).toBeNull();
    const pin = t.abort('c.test', app, 'x');
    expect(pin?.expiresAt).toBe(now + 5000);
    now += 4999;
    expect(t.pinned('c.test', app)).not.toBeNull();
    now += 1;
    expect(t.pinned('c.test', app)).toBeNull();
    expect(t.list()).toEqual([]);
  });

  it('counts certificate alerts, not other handshake errors', () => {
    expect(isCertificateRejection(Object.assign(new Error('alert'), { code: 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA' }))).toBe(true);
    expect(isCertificateRejection(Object.assign(new Error('alert'), { code: 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE' }))).toBe(true);
    expect(isCertificateRejection(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBe(false);
  });
});
