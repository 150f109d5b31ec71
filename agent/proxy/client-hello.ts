/**
 * Reading a TLS ClientHello without terminating TLS: the server name (SNI), the ALPN list and a
 * fingerprint of the client's TLS stack. The transparent door learns the destination this way (Node
 * has no SO_ORIGINAL_DST; FIELD-NOTES.md), and the proxy door checks what a CONNECT's client really
 * asks for (an IP literal, a fronted name) and tells pinned clients apart. Pure functions over the
 * bytes received so far.
 */
import { createHash } from 'node:crypto';

/** What a ClientHello says about its client and destination. */
export interface ClientHello {
  /** The SNI host name, lower case; null when the client sent none (an IP literal, an old client). */
  readonly servername: string | null;
  /** ALPN protocols offered, in order (`h2`, `http/1.1`); empty when none. */
  readonly alpn: readonly string[];
  /**
   * The client's TLS stack, JA4-style: a hash of its cipher suites and extension types, each
   * sorted and without GREASE values (Chrome shuffles its extensions per connection), so one
   * program gives one value and different stacks (curl, Node, Python, a browser) differ.
   */
  readonly fingerprint: string;
  /** True when it offers Encrypted Client Hello (the SNI is then the outer, public name). */
  readonly ech: boolean;
}

/** What the first bytes of a connection say. */
export type HelloResult =
  /** More bytes are needed. */
  | { readonly kind: 'partial' }
  /** Not a TLS ClientHello in one record. */
  | { readonly kind: 'invalid'; readonly reason: string }
  | ({ readonly kind: 'hello' } & ClientHello);

const PARTIAL: HelloResult = { kind: 'partial' };

/** The largest TLS record (RFC 8446 §5.1: 2^14 bytes plus the 5-byte header). */
export const MAX_HELLO_BYTES = 16_384 + 5;

const EXT_SERVER_NAME = 0x0000;
const EXT_ALPN = 0x0010;
/** RFC 9849 (TLS Encrypted Client Hello) `encrypted_client_hello`. */
const EXT_ECH = 0xfe0d;

function invalid(reason: string): HelloResult {
  return { kind: 'invalid', reason };
}

/** RFC 8701 GREASE values (0x0a0a, 0x1a1a, … 0xfafa): random per connection, left out of fingerprints. */
function isGrease(value: number): boolean {
  return (value & 0x0f0f) === 0x0a0a && value >> 8 === (value & 0xff);
}

/** True when `data` starts like a TLS handshake record (the first byte is enough to tell). */
export function looksLikeTls(data: Buffer): boolean {
  return data.length > 0 && data[0] === 0x16;
}

/** Parses the ClientHello at the start of `data` (RFC 8446 §4.1.2, SNI from RFC 6066 §3). */
export function parseClientHello(data: Buffer): HelloResult {
  if (data.length < 5) return data.length > 0 && data[0] !== 0x16 ? invalid('not a TLS handshake record') : PARTIAL;
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
  const suitesEnd = at + 2 + hello.readUInt16BE(at);
  if (suitesEnd > 4 + helloLength) return invalid('truncated cipher suites');
  const suites: number[] = [];
  for (let s = at + 2; s + 2 <= suitesEnd; s += 2) {
    const suite = hello.readUInt16BE(s);
    if (!isGrease(suite)) suites.push(suite);
  }
  at = suitesEnd;
  if (!need(1)) return invalid('truncated');
  at += 1 + hello[at]!; // compression methods
  const extensions: number[] = [];
  let servername: string | null = null;
  let alpn: string[] = [];
  let ech = false;
  if (need(2)) {
    const end = at + 2 + hello.readUInt16BE(at);
    at += 2;
    if (end > 4 + helloLength) return invalid('truncated extensions');
    while (at + 4 <= end) {
      const type = hello.readUInt16BE(at);
      const length = hello.readUInt16BE(at + 2);
      at += 4;
      if (at + length > end) return invalid('truncated extension');
      const body = hello.subarray(at, at + length);
      if (type === EXT_SERVER_NAME) {
        const name = serverName(body);
        if (typeof name !== 'string' && name !== null) return name;
        servername = name;
      } else if (type === EXT_ALPN) {
        alpn = protocols(body);
      } else if (type === EXT_ECH) {
        ech = true;
      }
      if (!isGrease(type)) extensions.push(type);
      at += length;
    }
  }
  // The fingerprint is hashed on first read: only a connection the agent governs needs it, and a
  // tunnel's first record is parsed on its way through (the hash was most of the parse's ~8 µs).
  let hashed: string | undefined;
  return {
    kind: 'hello',
    servername,
    alpn,
    get fingerprint(): string {
      return (hashed ??= fingerprint(suites, extensions));
    },
    ech,
  };
}

/** A short hash of the sorted suites and extension types (SNI and ALPN left out, as JA4 does). */
function fingerprint(suites: number[], extensions: number[]): string {
  const ext = extensions.filter((e) => e !== EXT_SERVER_NAME && e !== EXT_ALPN);
  const text = `${suites.sort((a, b) => a - b).join(',')}|${ext.sort((a, b) => a - b).join(',')}`;
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

function serverName(ext: Buffer): string | null | HelloResult {
  if (ext.length < 5) return invalid('empty server_name');
  const listEnd = 2 + ext.readUInt16BE(0);
  let at = 2;
  while (at + 3 <= Math.min(listEnd, ext.length)) {
    const type = ext[at]!;
    const length = ext.readUInt16BE(at + 1);
    at += 3;
    if (at + length > ext.length) return invalid('truncated server_name');
    if (type === 0) return ext.subarray(at, at + length).toString('latin1').toLowerCase();
    at += length;
  }
  return null;
}

function protocols(ext: Buffer): string[] {
  const out: string[] = [];
  if (ext.length < 2) return out;
  const end = Math.min(ext.length, 2 + ext.readUInt16BE(0));
  let at = 2;
  while (at < end) {
    const length = ext[at]!;
    at += 1;
    if (at + length > end) break;
    out.push(ext.subarray(at, at + length).toString('latin1'));
    at += length;
  }
  return out;
}
