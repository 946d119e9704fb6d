/**
 * What a push sends as it is: `ObjectStore.places` finds every object's size and pack in one
 * pass, and `PackSet.covering` picks the packs all of whose objects are wanted.
 */
import { describe, expect, it } from 'vitest';
import type { StockRoom } from '../stock-room.js';
import { tensor } from '../tensor/tensor.js';
import { newStock } from '../test-support/new-stock.js';

const sample = (index: number) => {
  const bytes = new Uint8Array(100);
  new DataView(bytes.buffer).setUint32(0, index, true);
  return tensor(bytes, [10, 10], 'uint8');
};

/** Writes samples `from`..`from + count - 1` in one scope (one pack); answers their ids. */
async function packOf(stock: StockRoom, count: number, from: number): Promise<string[]> {
  const ids: string[] = [];
  await stock.optimize(async () => {
    for (let i = from; i < from + count; i++) {
      await stock.data.set('images', `s${i}`, sample(i));
      ids.push(await stock.objects.putTensor(sample(i)));
    }
  });
  return ids;
}

describe('places and covering', () => {
  it('tells each object its size and pack, and sends only packs wholly wanted as they are', async () => {
    const stock = await newStock();
    const first = await packOf(stock, 20, 0);
    const second = await packOf(stock, 30, 100);
    const commit = await stock.commit('two packs');
    const places = await stock.objects.places([...first, ...second, commit]);
    const [packA, packB] = [places.get(first[0] as string)?.pack, places.get(second[0] as string)?.pack];
    expect(packA).toMatch(/^[0-9a-f]{64}$/);
    expect(packB).toMatch(/^[0-9a-f]{64}$/);
    expect(packA).not.toBe(packB);
    expect(places.get(first[3] as string)).toEqual({
      size: (await stock.objects.readRaw(first[3] as string)).length,
      pack: packA,
    });
    // The commit is a loose file of its own.
    expect(places.get(commit)).toEqual({ size: (await stock.objects.readRaw(commit)).length, pack: undefined });

    // All of the first pack and part of the second: the first goes whole, the rest is repacked.
    const wanted = [...first, ...second.slice(0, 10), commit, first[0] as string];
    const packOfHash = (hash: string) => places.get(hash)?.pack;
    const { packs, rest } = stock.objects.packs.covering(wanted, 1000, packOfHash);
    expect(packs.map((each) => each.name)).toEqual([packA]);
    expect(packs[0]?.path.endsWith(`${packA}.pack`)).toBe(true);
    expect([...rest].sort()).toEqual([...second.slice(0, 10), commit].sort());
    // Looking the packs up itself gives the same answer; a pack over the object limit is never whole.
    expect(stock.objects.packs.covering(wanted, 1000)).toEqual({ packs, rest });
    expect(stock.objects.packs.covering(wanted, 19, packOfHash).packs).toEqual([]);
  });

  it('refuses an object the repository does not hold, saying which', async () => {
    const stock = await newStock();
    await packOf(stock, 20, 0);
    await expect(stock.objects.places(['ab'.repeat(32)])).rejects.toMatchObject({
      name: 'NotFound',
      message: expect.stringMatching(/ababababab.* is missing/),
    });
    await expect(stock.objects.places(['not a hash'])).rejects.toMatchObject({ name: 'BadRequest' });
  });
});
