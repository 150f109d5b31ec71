/** Loopback host names: where plain `http://` is allowed (a gateway or identity provider on this machine, tests). */
import net from 'node:net';

/** True for `localhost`, 127.0.0.0/8 and ::1. */
export function isLoopbackHostname(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (net.isIPv4(h)) return h.startsWith('127.');
  return net.isIPv6(h) && (h === '::1' || h === '0:0:0:0:0:0:0:1');
}
