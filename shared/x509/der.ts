/**
 * A minimal DER (ITU-T X.690) encoder and reader: just the types X.509 certificates and PKCS#10
 * requests use. Hand-built because the certificate hot path must not go through node-forge's pure
 * JavaScript big-number code, and node-forge cannot describe EC keys at all.
 */
import { OutpostError } from '../errors.js';

/** Universal and context tags used by X.509. */
export const Tag = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

function lengthBytes(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One TLV: `tag`, then the DER length, then `content`. */
export function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), lengthBytes(content.length), content]);
}

/** SEQUENCE of already encoded elements. */
export function seq(...items: Buffer[]): Buffer {
  return tlv(Tag.SEQUENCE, Buffer.concat(items));
}

/** SET of already encoded elements (callers pass a single element, so no DER sorting is needed). */
export function set(...items: Buffer[]): Buffer {
  return tlv(Tag.SET, Buffer.concat(items));
}

/** Context-specific constructed tag `[n]` (EXPLICIT wrapper, or IMPLICIT constructed). */
export function ctx(n: number, content: Buffer): Buffer {
  return tlv(0xa0 | n, content);
}

/** Context-specific primitive tag `[n]` (IMPLICIT primitive, e.g. dNSName `[2]`). */
export function ctxPrim(n: number, content: Buffer): Buffer {
  return tlv(0x80 | n, content);
}

/** INTEGER from unsigned big-endian bytes (a leading zero is added when the top bit is set). */
export function uint(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  let body = bytes.subarray(start);
  if (((body[0] ?? 0) & 0x80) !== 0) body = Buffer.concat([Buffer.from([0]), body]);
  return tlv(Tag.INTEGER, body);
}

/** INTEGER from a small non-negative number. */
export function smallInt(n: number): Buffer {
  const bytes: number[] = [];
  let v = n;
  do {
    bytes.unshift(v & 0xff);
    v = Math.floor(v / 256);
  } while (v > 0);
  return uint(Buffer.from(bytes));
}

export function bool(value: boolean): Buffer {
  return tlv(Tag.BOOLEAN, Buffer.from([value ? 0xff : 0x00]));
}

export function nullValue(): Buffer {
  return tlv(Tag.NULL, Buffer.alloc(0));
}

export function octets(content: Buffer): Buffer {
  return tlv(Tag.OCTET_STRING, content);
}

/** BIT STRING with no unused bits. */
export function bits(content: Buffer): Buffer {
  return tlv(Tag.BIT_STRING, Buffer.concat([Buffer.from([0]), content]));
}

/** BIT STRING of named bits (bit 0 is the most significant bit of the first byte), DER-trimmed. */
export function namedBits(set: readonly number[]): Buffer {
  const top = Math.max(...set);
  const bytes = Buffer.alloc(Math.floor(top / 8) + 1);
  for (const b of set) bytes[Math.floor(b / 8)] = (bytes[Math.floor(b / 8)] ?? 0) | (0x80 >> b % 8);
  const unused = 7 - (top % 8);
  return tlv(Tag.BIT_STRING, Buffer.concat([Buffer.from([unused]), bytes]));
}

const oidCache = new Map<string, Buffer>();

/** OBJECT IDENTIFIER from dotted form (encodings cached: the same dozen OIDs recur in every leaf). */
export function oid(dotted: string): Buffer {
  const cached = oidCache.get(dotted);
  if (cached) return cached;
  const parts = dotted.split('.').map(Number);
  const body: number[] = [(parts[0] ?? 0) * 40 + (parts[1] ?? 0)];
  for (const p of parts.slice(2)) {
    const chunk: number[] = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    body.push(...chunk);
  }
  const encoded = tlv(Tag.OID, Buffer.from(body));
  oidCache.set(dotted, encoded);
  return encoded;
}

export function utf8(s: string): Buffer {
  return tlv(Tag.UTF8_STRING, Buffer.from(s, 'utf8'));
}

/**
 * A certificate validity time: UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5),
 * always in seconds and UTC ("Z"), as DER requires.
 */
export function time(d: Date): Buffer {
  const iso = d.toISOString(); // 2026-11-26T13:37:25.123Z
  const digits = iso.slice(0, 19).replace(/[-:T]/g, '');
  return d.getUTCFullYear() < 2050 ? tlv(Tag.UTC_TIME, Buffer.from(`${digits.slice(2)}Z`)) : tlv(Tag.GENERALIZED_TIME, Buffer.from(`${digits}Z`));
}

/** One element read from DER: its tag, content and the whole encoding. */
export interface DerNode {
  readonly tag: number;
  readonly content: Buffer;
  /** Tag, length and content: the exact bytes, for copying a Name or signing a TBS. */
  readonly raw: Buffer;
}

/** A DER input that is not what the reader expected. */
export class DerError extends OutpostError<'DER_INVALID'> {
  constructor(message: string) {
    super('DER_INVALID', message);
    this.name = 'DerError';
  }
}

/** Reads one element at `offset`; returns it and the offset after it. */
export function readNode(buf: Buffer, offset = 0): { node: DerNode; next: number } {
  const tag = buf[offset];
  let lenByte = buf[offset + 1];
  if (tag === undefined || lenByte === undefined) throw new DerError('truncated DER');
  let pos = offset + 2;
  let len = lenByte;
  if (lenByte & 0x80) {
    const count = lenByte & 0x7f;
    if (count === 0 || count > 4) throw new DerError('unsupported DER length');
    len = 0;
    for (let i = 0; i < count; i++) {
      lenByte = buf[pos++];
      if (lenByte === undefined) throw new DerError('truncated DER length');
      len = len * 256 + lenByte;
    }
  }
  const end = pos + len;
  if (end > buf.length) throw new DerError('DER element runs past its input');
  return { node: { tag, content: buf.subarray(pos, end), raw: buf.subarray(offset, end) }, next: end };
}

/** The elements inside a constructed element (SEQUENCE, SET, `[n]`). */
export function children(node: DerNode): DerNode[] {
  const out: DerNode[] = [];
  for (let off = 0; off < node.content.length; ) {
    const { node: child, next } = readNode(node.content, off);
    out.push(child);
    off = next;
  }
  return out;
}

/** Decodes an OBJECT IDENTIFIER's content to dotted form. */
export function decodeOid(content: Buffer): string {
  const first = content[0] ?? 0;
  const parts = [Math.floor(first / 40), first % 40];
  let v = 0;
  for (const b of content.subarray(1)) {
    v = v * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}
