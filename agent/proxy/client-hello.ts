/**
 * Reading the server name (SNI) from a TLS ClientHello without terminating TLS: the transparent
 * front door learns the destination this way (Node has no SO_ORIGINAL_DST; FIELD-NOTES.md).
 * Pure functions over the bytes received so far.
 */

/** What the first bytes of a connection say. */
export type HelloResult =
  /** More bytes are needed. */
  | { readonly kind: 'partial' }
  /** Not a TLS ClientHello in one record, or one without a host name. */
  | { readonly kind: 'invalid'; readonly reason: string }
  | { readonly kind: 'hello'; readonly servername: string };

const PARTIAL: HelloResult = { kind: 'partial' };

/** The largest TLS record (RFC 8446 §5.1: 2^14 bytes plus the 5-byte header). */
export const MAX_HELLO_BYTES = 16_384 + 5;

function invalid(reason: string): HelloResult {
  return { kind: 'invalid', reason };
}

/** Parses the ClientHello at the start of `data` (RFC 8446 §4.1.2, SNI from RFC 6066 §3). */
export function parseClientHello(data: Buffer): HelloResult {
  if (data.length < 5) return PARTIAL;
  if (data[0] !== 0x16) return invalid('not a TLS handshake record');
  const recordLength = data.readUInt16BE(3);
  if (data.length < 5 + recordLength) return data.length >= MAX_HELLO_BYTES ? invalid('record too long') : PARTIAL;
  const hello = data.subarray(5, 5 + recordLength);
  if (hello[0] !== 0x01) return invalid('not a ClientHello');
  if (hello.length < 4) return invalid('truncated handshake');
  const helloLength = (hello[1]! << 16) | (hello[2]! << 8) | hello[3]!;
  if (helloLength + 4 > hello.length) return invalid('ClientHello spans records');
  let at = 4 + 2 + 32; // type+length, client_version, random
  const need = (n: number): boolean => at + n <= 4 + helloLength;
  if (!need(1)) return invalid('truncated');
  at += 1 + hello[at]!; // session id
  if (!need(2)) return invalid('truncated');
  at += 2 + hello.readUInt16BE(at); // cipher suites
  if (!need(1)) return invalid('truncated');
  at += 1 + hello[at]!; // compression methods
  if (!need(2)) return invalid('no extensions');
  const end = at + 2 + hello.readUInt16BE(at);
  at += 2;
  if (end > 4 + helloLength) return invalid('truncated extensions');
  while (at + 4 <= end) {
    const type = hello.readUInt16BE(at);
    const length = hello.readUInt16BE(at + 2);
    at += 4;
    if (at + length > end) return invalid('truncated extension');
    if (type === 0x0000) return serverName(hello.subarray(at, at + length));
    at += length;
  }
  return invalid('no server name');
}

function serverName(ext: Buffer): HelloResult {
  if (ext.length < 5) return invalid('empty server_name');
  const listEnd = 2 + ext.readUInt16BE(0);
  let at = 2;
  while (at + 3 <= Math.min(listEnd, ext.length)) {
    const type = ext[at]!;
    const length = ext.readUInt16BE(at + 1);
    at += 3;
    if (at + length > ext.length) return invalid('truncated server_name');
    if (type === 0) return { kind: 'hello', servername: ext.subarray(at, at + length).toString('latin1').toLowerCase() };
    at += length;
  }
  return invalid('no host_name in server_name');
}
