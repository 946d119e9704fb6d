import { hash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { temporaryDirectory } from '../test-support/temp-directory.js';
import { decodeIndex, encodeIndex, findInIndex, scanPack } from './pack-format.js';
import { PackSet } from './pack-set.js';
import { PackWriter } from './pack-writer.js';

/** Objects of varied small sizes (so entries straddle the writer's slabs), each distinct. */
function objects(count: number): [string, Buffer][] {
  return Array.from({ length: count }, (_, index) => {
    const bytes = Buffer.alloc(500 + ((index * 37) % 700), index & 0xff);
    bytes.writeUInt32LE(index, 0);
    return [hash('sha256', bytes, 'hex'), bytes];
  });
}

describe('PackWriter and PackSet', () => {
  it('writes objects across several slabs, reads back early ones before sealing, and walks to the same entries', async () => {
    const folder = await temporaryDirectory();
    const writer = new PackWriter(join(folder, 'tmp'));
    const all = objects(12_000);
    for (const [id, bytes] of all) await writer.add(id, [bytes], bytes.length);
    // A second copy is skipped.
    await writer.add(all[0]?.[0] as string, [all[0]?.[1] as Buffer], all[0]?.[1].length as number);
    expect(writer.count).toBe(12_000);
    // The first objects are on disk by now, the last ones still in memory: both read back.
    for (const index of [0, 1, 5_000, 11_999]) {
      const [id, bytes] = all[index] as [string, Buffer];
      expect((await writer.read(id))?.equals(bytes)).toBe(true);
    }
    const sealed = await writer.seal(join(folder, 'packs'), true);
    const pack = await readFile(join(folder, 'packs', `${sealed.name}.pack`));
    expect(hash('sha256', pack, 'hex')).toBe(sealed.name);
    expect(pack.length).toBe(sealed.bytes);
    expect(scanPack(pack, 'test').size).toBe(12_000);

    const packs = new PackSet(join(folder, 'packs'));
    await packs.refresh();
    const read = (index: number) => {
      const [id, bytes] = all[index] as [string, Buffer];
      const found = packs.find(id);
      expect(found).toBeDefined();
      return packs.read(found as NonNullable<typeof found>).equals(bytes);
    };
    // In pack order (read ahead), backwards and scattered (one read each): the same bytes.
    for (let index = 0; index < all.length; index += 1) expect(read(index)).toBe(true);
    for (let index = all.length - 1; index >= 0; index -= 7) expect(read(index)).toBe(true);
    for (let step = 0; step < 3_000; step += 1) expect(read((step * 7_919) % all.length)).toBe(true);
    packs.close();
  });

  it('gives each reader its own copy of the bytes', async () => {
    const folder = await temporaryDirectory();
    const writer = new PackWriter(join(folder, 'tmp'));
    const all = objects(100);
    for (const [id, bytes] of all) await writer.add(id, [bytes], bytes.length);
    await writer.seal(join(folder, 'packs'), false);
    const packs = new PackSet(join(folder, 'packs'));
    await packs.refresh();
    const [firstId, firstBytes] = all[0] as [string, Buffer];
    const [secondId, secondBytes] = all[1] as [string, Buffer];
    const first = packs.read(packs.find(firstId) as NonNullable<ReturnType<PackSet['find']>>);
    first.fill(0);
    const second = packs.read(packs.find(secondId) as NonNullable<ReturnType<PackSet['find']>>);
    expect(second.equals(secondBytes)).toBe(true);
    expect(packs.read(packs.find(firstId) as NonNullable<ReturnType<PackSet['find']>>).equals(firstBytes)).toBe(true);
    packs.close();
  });

  it('finds ids that share their first bytes, and none that is absent', () => {
    // Ids alike in their first four bytes (the search's fast comparison) differ only later.
    const ids = Array.from({ length: 200 }, (_, index) => `abcd1234${hash('sha256', String(index), 'hex').slice(8)}`);
    const absent = Array.from({ length: 50 }, (_, index) => `abcd1234${hash('sha256', `x${index}`, 'hex').slice(8)}`);
    const entries = new Map(ids.map((id, index) => [id, { offset: 16 + index * 48, length: 8 }]));
    const index = decodeIndex(encodeIndex(entries, 'e'.repeat(64), 16 + 200 * 48), 'test');
    const sorted = [...ids].sort();
    for (const id of ids) expect(findInIndex(index, Buffer.from(id, 'hex'))).toBe(sorted.indexOf(id));
    for (const id of absent) expect(findInIndex(index, Buffer.from(id, 'hex'))).toBe(-1);
  });
});
