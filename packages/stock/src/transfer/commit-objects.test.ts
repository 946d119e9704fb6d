import { describe, expect, it } from 'vitest';
import { StockRoom } from '../stock-room.js';
import { tensor, tensorValues } from '../tensor/tensor.js';
import { newStock } from '../test-support/new-stock.js';
import { commitAncestry, missingObjects, objectsForCommit } from './commit-objects.js';

describe('transfer', () => {
  it('lists what a commit needs and copies only the missing objects to another repository', async () => {
    const source = await newStock();
    await source.model.saveWeights('net', { w: tensor([1, 2]), b: tensor([3]) });
    await source.data.set('x', 's', tensor([1, 2]));
    await source.tag.set('lr', 0.5);
    const first = await source.commit('first');
    await source.model.saveWeights('net', { w: tensor([1, 2]), b: tensor([4]) });
    const second = await source.commit('second');

    const needed = await objectsForCommit(source.objects, second);
    // commit, manifest, two tensors (w is shared by the sample), the sample, the tag: w and s are one object.
    expect(needed.at(-1)).toBe(second);
    expect(new Set(needed).size).toBe(needed.length);
    expect(needed).toHaveLength(5);
    expect(await commitAncestry(source.objects, second)).toEqual([first, second]);

    const target = await newStock();
    let sent = 0;
    for (const commit of await commitAncestry(source.objects, second)) {
      for (const hash of await missingObjects(target.objects, await objectsForCommit(source.objects, commit))) {
        await target.objects.writeRaw(hash, await source.objects.readRaw(hash));
        sent += 1;
      }
    }
    // The second commit shares w, the sample and the tag with the first: only 3 new objects travel.
    expect(sent).toBe((await objectsForCommit(source.objects, first)).length + 3);
    await target.checkout(second);
    expect(tensorValues(await target.data.get('x', 's'))).toEqual([1, 2]);
    expect((await target.log()).map((c) => c.id)).toEqual([second, first]);
    expect(await new StockRoom({ path: target.root, commit: first }).tag.get('lr')).toBe(0.5);
  });

  it('refuses objects that do not match their hash', async () => {
    const source = await newStock();
    await source.tag.set('a', 1);
    const id = await source.commit('a');
    const bytes = new Uint8Array(await source.objects.readRaw(id));
    bytes.set([(bytes.at(-2) as number) ^ 1], bytes.length - 2);
    const target = await newStock();
    await expect(target.objects.writeRaw(id, bytes)).rejects.toThrow('damaged in transit');
    expect(await target.objects.has(id)).toBe(false);
    await expect(target.objects.writeRaw('abc', bytes)).rejects.toThrow('is not an object hash');
  });
});
