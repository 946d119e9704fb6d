import { hash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { encodePackIndex, findInPackIndex, verifyPackStream } from './stock-pack-format.js';

/** A stock object's bytes: the magic, an 8-byte-aligned header, a payload (FORMAT.md). */
function stockObject(index: number, payloadBytes: number): Buffer {
  const header = Buffer.from('{"kind":"tensor","dtype":"uint8","shape":[1]}');
  const padded = Math.ceil((8 + header.length) / 8) * 8 - 8;
  const bytes = Buffer.alloc(8 + padded + payloadBytes, 0x20);
  bytes.write('LSO1', 0, 'latin1');
  bytes.writeUInt32LE(padded, 4);
  header.copy(bytes, 8);
  bytes.fill(index & 0xff, 8 + padded);
  bytes.writeUInt32LE(index, 8 + padded);
  return bytes;
}

/** A pack of `count` objects of varied sizes, laid out as FORMAT.md says, and its objects. */
function pack(count: number): { bytes: Buffer; objects: Map<string, Buffer> } {
  const parts: Buffer[] = [Buffer.from('LSP1\x01\0\0\0\0\0\0\0\0\0\0\0', 'latin1')];
  const objects = new Map<string, Buffer>();
  for (let index = 0; index < count; index += 1) {
    const object = stockObject(index, 4 + ((index * 13) % 300));
    const id = hash('sha256', object, 'hex');
    objects.set(id, object);
    const entry = Buffer.alloc(40);
    entry.write(id, 0, 32, 'hex');
    entry.writeUInt32LE(object.length, 32);
    parts.push(entry, object, Buffer.alloc((8 - (object.length % 8)) % 8));
  }
  return { bytes: Buffer.concat(parts), objects };
}

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
});
