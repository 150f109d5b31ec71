/**
 * Decoding a compressed upstream response for the tap, incrementally and bounded.
 *
 * The engine asks upstream for `accept-encoding: identity` whenever the tap reads the body, but an
 * upstream (or a CDN in front of it) may compress anyway. Output guardrails and usage must still see
 * the text, so the engine decodes such a body chunk by chunk here, synchronously (minizlib drives
 * Node's zlib binding without a thread-pool hop, so a chunk's decoded bytes reach the tap in the same
 * turn and flow control stays the client's), and the client receives the decoded body (identity).
 *
 * Bounded against decompression bombs, per response: the decoded bytes may not pass `maxBytes`, nor,
 * past the first {@link RATIO_FLOOR_BYTES}, `maxRatio` times the compressed bytes; and no
 * {@link SLICE_BYTES} slice of input may expand past `RATIO_FLOOR_BYTES + SLICE_BYTES × maxRatio` in
 * one step (zlib's `maxOutputLength`), so a single chunk never balloons in memory before the totals
 * are checked (deflate expands at most ~1032:1, brotli and zstd far more).
 */
import zlib from 'node:zlib';
import { BrotliDecompress, Gunzip, Inflate, InflateRaw, ZstdDecompress, type ZlibOptions } from 'minizlib';
import type { DecompressionBounds } from '../../shared/schema/config.js';
import { ProxyError } from './errors.js';

/** Input is decoded this many bytes at a time (one TLS record's worth). */
export const SLICE_BYTES = 16 * 1024;
/** The ratio bound applies once this much has been decoded: small bodies compress far better than large ones. */
export const RATIO_FLOOR_BYTES = 1024 * 1024;

/** A minizlib decompressor. */
type Decompressor = Gunzip | Inflate | InflateRaw | BrotliDecompress | ZstdDecompress;

type DecompressorFactory = (options: ZlibOptions, first: Buffer) => Decompressor;

/**
 * Content codings this Node can decode, by their `Content-Encoding` token (RFC 9110 §8.4.1). zstd
 * only where Node's zlib has it (22.15+, 23.8+). `deflate` is the zlib format, but some servers send
 * raw deflate (as browsers tolerate): the first bytes tell which.
 */
const CODINGS: ReadonlyMap<string, DecompressorFactory> = new Map<string, DecompressorFactory>([
  ['gzip', (o) => new Gunzip(o)],
  ['x-gzip', (o) => new Gunzip(o)],
  ['deflate', (o, first) => (zlibWrapped(first) ? new Inflate(o) : new InflateRaw(o))],
  ['br', (o) => new BrotliDecompress(o)],
  ...(typeof (zlib as { createZstdDecompress?: unknown }).createZstdDecompress === 'function' ? [['zstd', (o: ZlibOptions) => new ZstdDecompress(o)] as const] : []),
]);

/** A zlib stream header (RFC 1950 §2.2): method 8 (deflate) and a header checksum divisible by 31. */
function zlibWrapped(first: Buffer): boolean {
  const cmf = first[0] ?? 0;
  if ((cmf & 0x0f) !== 8) return false;
  return first.length < 2 || ((cmf << 8) | (first[1] ?? 0)) % 31 === 0;
}

/** The codings of a `Content-Encoding` value, in the order applied, identity left out (lower case). */
export function contentCodings(value: string | string[]): string[] {
  const text = Array.isArray(value) ? value.join(',') : value;
  return text
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter((t) => t !== '' && t !== 'identity');
}

/** Why a body cannot be decoded here, in words for the audit record and the client; null when it can. */
export function undecodable(codings: readonly string[]): string | null {
  if (codings.length > 1) return `the response came with more than one content-coding (${codings.join(', ')}), which this agent does not decode`;
  const coding = codings[0] ?? 'identity';
  return CODINGS.has(coding) ? null : `the response came with content-encoding "${coding}", which this agent cannot decode`;
}

const MIB = 1024 * 1024;

function size(bytes: number): string {
  return bytes >= MIB ? `${Math.round((bytes / MIB) * 10) / 10} MiB` : `${Math.round(bytes / 1024)} KiB`;
}

/**
 * One response's decoder. `decode` and `finish` return the decoded bytes of what they were given
 * (null when none yet), or throw a {@link ProxyError}: `PROXY_DECODED_TOO_LARGE` when a bound is
 * passed (a decompression bomb, or a body too large to inspect), `PROXY_DECODE_FAILED` when the
 * bytes are not valid for the coding.
 */
export class ContentDecoder {
  private stream: Decompressor | null = null;
  private readonly out: Buffer[] = [];
  private failure: (Error & { code?: string }) | null = null;
  private encoded = 0;
  private decoded = 0;

  constructor(
    /** The one coding, lower case (`gzip`, `deflate`, `br`, `zstd`): check {@link undecodable} first. */
    readonly coding: string,
    private readonly bounds: DecompressionBounds,
  ) {}

  decode(chunk: Buffer): Buffer | null {
    for (let at = 0; at < chunk.length; at += SLICE_BYTES) {
      const slice = at === 0 && chunk.length <= SLICE_BYTES ? chunk : chunk.subarray(at, at + SLICE_BYTES);
      this.encoded += slice.length;
      (this.stream ?? this.open(slice)).write(slice);
      this.check(slice.length);
    }
    return this.take();
  }

  /** Upstream ended: the rest, and a check that the body was complete. */
  finish(): Buffer | null {
    if (this.stream === null) return null; // an empty body
    this.stream.end();
    this.check(0);
    this.close();
    return this.take();
  }

  /** Frees the native decoder (idempotent). */
  close(): void {
    this.stream?.close();
  }

  private open(first: Buffer): Decompressor {
    const factory = CODINGS.get(this.coding);
    if (factory === undefined) throw new ProxyError('PROXY_DECODE_FAILED', `content-encoding "${this.coding}" cannot be decoded here`);
    const options: ZlibOptions & { maxOutputLength: number } = { maxOutputLength: RATIO_FLOOR_BYTES + SLICE_BYTES * this.bounds.maxRatio };
    const stream = factory(options, first);
    stream.on('data', (data: Buffer) => {
      this.decoded += data.length;
      this.out.push(data);
    });
    stream.on('error', (error) => {
      this.failure = error as Error & { code?: string };
    });
    this.stream = stream;
    return stream;
  }

  /** After a step that decoded `step` input bytes. */
  private check(step: number): void {
    const failure = this.failure;
    if (failure !== null) {
      this.out.length = 0;
      if (failure.code === 'ERR_BUFFER_TOO_LARGE') throw this.tooLarge(`${step > 0 ? `${step} bytes of it` : 'its last bytes'} expanded past ${size(RATIO_FLOOR_BYTES + SLICE_BYTES * this.bounds.maxRatio)}`);
      throw new ProxyError('PROXY_DECODE_FAILED', `the response is not valid ${this.coding} (${failure.message})`);
    }
    const { maxBytes, maxRatio } = this.bounds;
    if (this.decoded > maxBytes) throw this.tooLarge(`it decoded past ${size(maxBytes)}`);
    if (this.decoded > RATIO_FLOOR_BYTES && this.decoded > this.encoded * maxRatio) {
      throw this.tooLarge(`${size(this.encoded)} of it decoded to ${size(this.decoded)}, more than ${maxRatio} times its size`);
    }
  }

  private tooLarge(what: string): ProxyError {
    this.close();
    this.out.length = 0;
    return new ProxyError('PROXY_DECODED_TOO_LARGE', `the ${this.coding}-compressed response passed the agent's bound against decompression bombs (${what})`);
  }

  private take(): Buffer | null {
    const out = this.out;
    if (out.length === 0) return null;
    const bytes = out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out);
    out.length = 0;
    return bytes;
  }
}
