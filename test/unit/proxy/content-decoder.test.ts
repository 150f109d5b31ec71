import { randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ContentDecoder, contentCodings, RATIO_FLOOR_BYTES, undecodable } from '../../../agent/proxy/content-decoder.js';
import { zstdFrame } from '../../support/fake/respond.js';

const BOUNDS = { maxBytes: 256 * 1024 * 1024, maxRatio: 100 };
const ZSTD = typeof (zlib as { createZstdDecompress?: unknown }).createZstdDecompress === 'function';

/** SSE text that compresses about as API answers do (~5:1). */
function sample(bytes: number): Buffer {
  let text = '';
  while (text.length < bytes) text += `data: {"choices":[{"delta":{"content":"${randomBytes(4).toString('hex')}"}}]}\n\n`;
  return Buffer.from(text.slice(0, bytes));
}

/** Bytes that gzip about 30:1: 4 KiB blocks, each one random 64-byte string repeated. */
function repetitive(bytes: number): Buffer {
  const blocks: Buffer[] = [];
  for (let n = 0; n < bytes; n += 4096) blocks.push(Buffer.from(randomBytes(32).toString('hex').repeat(64)));
  return Buffer.concat(blocks).subarray(0, bytes);
}

/** Decodes `encoded` fed in pieces of `piece` bytes. */
function decodeAll(coding: string, encoded: Buffer, piece: number, bounds = BOUNDS): Buffer {
  const d = new ContentDecoder(coding, bounds);
  const out: Buffer[] = [];
  for (let at = 0; at < encoded.length; at += piece) {
    const b = d.decode(encoded.subarray(at, at + piece));
    if (b !== null) out.push(b);
  }
  const last = d.finish();
  if (last !== null) out.push(last);
  return Buffer.concat(out);
}

describe('decoding a compressed response', () => {
  const plain = sample(200_000);
  const encodings: Array<[string, Buffer]> = [
    ['gzip', zlib.gzipSync(plain)],
    ['x-gzip', zlib.gzipSync(plain)],
    ['deflate', zlib.deflateSync(plain)],
    ['deflate', zlib.deflateRawSync(plain)], // raw deflate, as some servers send it
    ['br', zlib.brotliCompressSync(plain)],
  ];

  it.each(encodings)('%s decodes to the same bytes however the body is split', (coding, encoded) => {
    for (const piece of [1, 7, 1000, 16 * 1024, 100_000, encoded.length]) {
      expect(decodeAll(coding, encoded, piece).equals(plain), `${coding} in pieces of ${piece}`).toBe(true);
    }
  });

  it('decodes each flushed event of a stream as it arrives', () => {
    const gz = zlib.createGzip();
    const d = new ContentDecoder('gzip', BOUNDS);
    const wire: Buffer[] = [];
    gz.on('data', (b: Buffer) => wire.push(b));
    return new Promise<void>((resolve) => {
      gz.write('data: {"a":1}\n\n', () =>
        gz.flush(zlib.constants.Z_SYNC_FLUSH, () => {
          expect(d.decode(Buffer.concat(wire.splice(0)))?.toString()).toBe('data: {"a":1}\n\n');
          resolve();
        }),
      );
    });
  });

  it('concatenated gzip members and zstd frames decode as one body (zstd where Node has it)', () => {
    const members = Buffer.concat([zlib.gzipSync('one '), zlib.gzipSync('two')]);
    expect(decodeAll('gzip', members, 5).toString()).toBe('one two');
    expect(undecodable(['zstd'])).toBe(ZSTD ? null : 'the response came with content-encoding "zstd", which this agent cannot decode');
    if (ZSTD) expect(decodeAll('zstd', Buffer.concat([zstdFrame(Buffer.from('one ')), zstdFrame(Buffer.from('two'))]), 3).toString()).toBe('one two');
  });

  it('an empty body decodes to nothing', () => {
    expect(new ContentDecoder('gzip', BOUNDS).finish()).toBeNull();
  });

  it('reads Content-Encoding values and names what it cannot decode', () => {
    expect(contentCodings('GZIP')).toEqual(['gzip']);
    expect(contentCodings(' identity ')).toEqual([]);
    expect(contentCodings(['gzip', 'br'])).toEqual(['gzip', 'br']);
    expect(undecodable(['gzip'])).toBeNull();
    expect(undecodable(['compress'])).toMatch(/content-encoding "compress"/);
    expect(undecodable(['gzip', 'br'])).toMatch(/more than one content-coding \(gzip, br\)/);
  });

  it('bytes that are not valid for the coding fail with PROXY_DECODE_FAILED', () => {
    expect(() => decodeAll('gzip', Buffer.from('not gzip at all'), 100)).toThrow(expect.objectContaining({ code: 'PROXY_DECODE_FAILED' }));
    const whole = zlib.gzipSync(plain);
    const truncated = whole.subarray(0, whole.length - 10);
    expect(() => decodeAll('gzip', truncated, 100)).toThrow(expect.objectContaining({ code: 'PROXY_DECODE_FAILED', message: expect.stringMatching(/not valid gzip/) }));
  });
});

describe('the bound against decompression bombs', () => {
  const zeros = (n: number): Buffer => Buffer.alloc(n);

  it('passes a body that compresses well but below the ratio, and small bodies at any ratio', () => {
    expect(decodeAll('gzip', zlib.gzipSync(sample(5 * 1024 * 1024)), 16 * 1024).length).toBe(5 * 1024 * 1024);
    // 900 KiB of zeros is ~1000:1, but under the first MiB the ratio is not judged.
    expect(decodeAll('gzip', zlib.gzipSync(zeros(900 * 1024)), 64).length).toBe(900 * 1024);
  });

  it.each([
    ['gzip', zlib.gzipSync(zeros(64 * 1024 * 1024))],
    ['deflate', zlib.deflateSync(zeros(64 * 1024 * 1024))],
    ['br', zlib.brotliCompressSync(zeros(64 * 1024 * 1024), { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 1 } })],
  ])('%s: a bomb fails with PROXY_DECODED_TOO_LARGE before it expands far', (coding, bomb) => {
    const d = new ContentDecoder(coding, BOUNDS);
    let decoded = 0;
    const run = (): void => {
      for (let at = 0; at < bomb.length; at += 16 * 1024) decoded += d.decode(bomb.subarray(at, at + 16 * 1024))?.length ?? 0;
      d.finish();
    };
    expect(run).toThrow(expect.objectContaining({ code: 'PROXY_DECODED_TOO_LARGE', message: expect.stringMatching(/decompression bombs/) }));
    // One step at most past the ratio floor (16 KiB × 100), never the whole 64 MiB.
    expect(decoded).toBeLessThanOrEqual(RATIO_FLOOR_BYTES + 16 * 1024 * 100);
  });

  it('the ratio is judged on the whole body so far', () => {
    const bounds = { maxBytes: BOUNDS.maxBytes, maxRatio: 10 };
    // ~30:1 after incompressible bytes: fine while the whole stays under 10:1, refused after.
    const body = Buffer.concat([randomBytes(200 * 1024), repetitive(8 * 1024 * 1024)]);
    expect(() => decodeAll('gzip', zlib.gzipSync(body), 4096, bounds)).toThrow(expect.objectContaining({ code: 'PROXY_DECODED_TOO_LARGE', message: expect.stringMatching(/more than 10 times its size/) }));
    expect(decodeAll('gzip', zlib.gzipSync(body.subarray(0, 1400 * 1024)), 4096, bounds).length).toBe(1400 * 1024);
  });

  it('the absolute cap holds whatever the ratio', () => {
    const random = randomBytes(3 * 1024 * 1024);
    expect(() => decodeAll('gzip', zlib.gzipSync(random), 16 * 1024, { maxBytes: 2 * 1024 * 1024, maxRatio: 100 })).toThrow(
      expect.objectContaining({ code: 'PROXY_DECODED_TOO_LARGE', message: expect.stringMatching(/decoded past 2 MiB/) }),
    );
  });
});
