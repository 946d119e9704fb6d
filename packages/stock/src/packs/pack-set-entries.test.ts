/**
 * A pack this process sealed or installed is searched through the entries it was built from
 * (by hex id), any other through its index on disk: both must find the same objects, at the
 * same places, with the same bytes.
 */
import { describe, expect, it } from 'vitest';
import { StockRoom } from '../stock-room.js';
import { tensor } from '../tensor/tensor.js';
import { newStock } from '../test-support/new-stock.js';

const sample = (index: number, bytes = 100) => {
  const data = new Uint8Array(bytes);
  new DataView(data.buffer).setUint32(0, index, true);
  return tensor(data, [bytes], 'uint8');
};

describe('packs found through their kept entries', () => {
  it('answers what a fresh reader of the same packs answers', async () => {
    const writer = await newStock();
    // Three packs of varied object sizes (so offsets are not a plain stride), then a commit.
    for (const [from, count, bytes] of [
      [0, 40, 100],
      [1000, 25, 3001],
      [2000, 300, 17],
    ] as const) {
      await writer.data.setMany(
        'images',
        Array.from({ length: count }, (_, i) => [`s${from + i}`, sample(from + i, bytes)] as const),
      );
    }
    await writer.commit('three packs');
    const ids = Object.values((await writer.commitInfo('head')).tree['data/images'] ?? {});
    expect(ids).toHaveLength(365);
    const fresh = new StockRoom({ path: writer.root });
    const [kept, read] = [await writer.objects.places(ids), await fresh.objects.places(ids)];
    expect([...kept].sort()).toEqual([...read].sort());
    expect(new Set([...kept.values()].map((place) => place.pack)).size).toBe(3);
    for (const id of ids.filter((_, i) => i % 7 === 0)) {
      expect(Buffer.compare(await writer.objects.readRaw(id), await fresh.objects.readRaw(id))).toBe(0);
    }
    const absent = 'ab'.repeat(32);
    expect([await writer.objects.has(absent), await fresh.objects.has(absent)]).toEqual([false, false]);
    expect(await writer.objects.missing([absent, ...ids.slice(0, 5)])).toEqual([absent]);
    // An id in capitals names no object, whichever way the packs are searched.
    const upper = (ids[0] as string).toUpperCase();
    await expect(writer.objects.readRaw(upper)).rejects.toMatchObject({ name: 'BadRequest' });
    await expect(writer.objects.places([upper])).rejects.toMatchObject({ name: 'BadRequest' });
  });
});
