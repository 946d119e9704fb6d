import { hash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { PackEntries } from './stock-pack-entries.js';
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

  it('keeps the first place of an object a pack holds twice, and indexes it once', async () => {
    const [a, b] = [stockObject(1, 40), stockObject(2, 90)];
    const { bytes, ids } = packOf([a, b, a]);
    const entries = await verifyPackStream(chunked(bytes, 64), bytes.length);
    expect(entries.size).toBe(2);
    const index = encodePackIndex(entries, hash('sha256', bytes, 'hex'), bytes.length);
    expect(index.readUInt32LE(8)).toBe(2);
    expect(findInPackIndex(index, ids[0] as string)).toEqual({ offset: 16 + 40, length: a.length });
    expect(entries.get(ids[0] as string)).toEqual({ offset: 16 + 40, length: a.length });
  });

  it('refuses an object without the stock magic wherever a chunk cuts its first bytes', async () => {
    const plain = stockObject(3, 60);
    plain.write('XSO1', 0, 'latin1');
    const { bytes } = packOf([stockObject(4, 20), plain]);
    const start = bytes.indexOf('XSO1', 0, 'latin1');
    for (const cut of [start, start + 1, start + 2, start + 3, start + 4]) {
      const parts = Readable.from([bytes.subarray(0, cut), bytes.subarray(cut)]);
      await expect(verifyPackStream(parts, bytes.length)).rejects.toThrow(/is not a stock object/);
    }
  });
});

describe('encodePackIndex', () => {
  it('keeps offsets past 4 GiB, which it writes as two 32-bit halves', () => {
    const far = 5 * 2 ** 32 + 24;
    const entries = new PackEntries();
    entries.add(Buffer.from('ff'.repeat(32), 'hex').toString('latin1'), far, 800);
    entries.add(Buffer.from('0a'.repeat(32), 'hex').toString('latin1'), 16, 24);
    const index = encodePackIndex(entries, 'ab'.repeat(32), far + 800);
    expect(findInPackIndex(index, 'ff'.repeat(32))).toEqual({ offset: far, length: 800 });
    expect(index.readBigUInt64LE(1080 + 48 + 32)).toBe(BigInt(far));
    expect(findInPackIndex(index, '0a'.repeat(32))).toEqual({ offset: 16, length: 24 });
  });
});
