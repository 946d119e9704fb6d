import { hash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { encodePackIndex, findInPackIndex, verifyPackStream } from './stock-pack-format.js';
import { stockPack as pack, packOf, stockObject } from './test-support/stock-pack-bytes.js';

const chunked = (bytes: Buffer, size: number) =>
  Readable.from(
    (function* () {
      for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
    })(),
  );

describe('verifyPackStream', () => {
  it('finds every object wherever the chunks cut it, and the index it builds finds them again', async () => {
    const { bytes, objects } = pack(300);
    for (const size of [1, 7, 40, 333, 4096, bytes.length]) {
      const entries = await verifyPackStream(chunked(bytes, size), bytes.length);
      expect(entries.size).toBe(300);
      const index = encodePackIndex(entries, hash('sha256', bytes, 'hex'), bytes.length);
      for (const [id, object] of objects) {
        const at = findInPackIndex(index, id);
        expect(at).toEqual(entries.get(id));
        expect(bytes.subarray(at?.offset, (at?.offset ?? 0) + (at?.length ?? 0)).equals(object)).toBe(true);
      }
      expect(findInPackIndex(index, 'f'.repeat(64))).toBeUndefined();
      expect(findInPackIndex(index, 'not hex')).toBeUndefined();
    }
  });

  it('refuses an object without the object magic wherever a chunk cuts its first bytes', async () => {
    // Its id is its bytes' hash: only the magic check can refuse it.
    const notStock = stockObject(3, 20);
    notStock.write('LSX', 1, 'latin1');
    const first = stockObject(1, 12);
    const { bytes } = packOf([first, notStock]);
    const objectAt = 16 + 40 + Math.ceil(first.length / 8) * 8 + 40;
    expect(bytes.toString('latin1', objectAt, objectAt + 4)).toBe('LLSX');
    for (let cut = objectAt - 1; cut <= objectAt + 4; cut += 1) {
      const pieces = Readable.from([bytes.subarray(0, cut), bytes.subarray(cut, cut + 1), bytes.subarray(cut + 1)]);
      await expect(verifyPackStream(pieces, bytes.length)).rejects.toThrow(/is not a stock object/);
    }
    await expect(verifyPackStream(chunked(bytes, 1), bytes.length)).rejects.toThrow(/is not a stock object/);
  });

  it('refuses a damaged object, non-zero padding and a truncated pack, however it is cut', async () => {
    const { bytes } = pack(20);
    const damaged = Buffer.from(bytes);
    damaged[16 + 40 + 58] = (damaged[16 + 40 + 58] as number) ^ 1;
    const firstLength = bytes.readUInt32LE(16 + 32);
    const padding = Buffer.from(bytes);
    if (firstLength % 8 !== 0) padding[16 + 40 + firstLength] = 1;
    for (const size of [5, 64, bytes.length]) {
      await expect(verifyPackStream(chunked(damaged, size), bytes.length)).rejects.toThrow(/hashes to/);
      if (firstLength % 8 !== 0) {
        await expect(verifyPackStream(chunked(padding, size), bytes.length)).rejects.toThrow(/padding/);
      }
      const short = bytes.subarray(0, bytes.length - 30);
      await expect(verifyPackStream(chunked(short, size), short.length)).rejects.toThrow(/ends inside|past its end/);
    }
  });
});

describe('encodePackIndex', () => {
  it('keeps offsets past 4 GiB, which it writes as two 32-bit halves', () => {
    const far = 5 * 2 ** 32 + 24;
    const entries = new Map([
      ['0a'.repeat(32), { offset: 16, length: 24 }],
      ['ff'.repeat(32), { offset: far, length: 800 }],
    ]);
    const index = encodePackIndex(entries, 'ab'.repeat(32), far + 800);
    expect(findInPackIndex(index, 'ff'.repeat(32))).toEqual({ offset: far, length: 800 });
    expect(index.readBigUInt64LE(1080 + 48 + 32)).toBe(BigInt(far));
    expect(findInPackIndex(index, '0a'.repeat(32))).toEqual({ offset: 16, length: 24 });
  });
});
