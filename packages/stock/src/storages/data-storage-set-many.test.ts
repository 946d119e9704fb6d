import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StockRoom } from '../stock-room.js';
import { type Tensor, tensor, tensorValues } from '../tensor/tensor.js';
import { newStock } from '../test-support/new-stock.js';

/** A 28×28 uint8 picture that differs with `index` (two indexes give the same bytes when equal mod 500). */
function picture(index: number): Tensor {
  const pixels = new Uint8Array(784);
  for (let at = 0; at < pixels.length; at += 1) pixels[at] = ((index % 500) * 31 + at * 7) % 256;
  return tensor(pixels, [28, 28], 'uint8');
}

/** Everything a commit and the store say about the samples, for comparing two repositories. */
async function contents(stock: StockRoom, commit: string) {
  const info = await stock.commitInfo(commit);
  const objects: string[] = [];
  // Commit objects differ (their time); every other object must be the same.
  for await (const hash of stock.objects.all()) if ((await stock.objects.kindOf(hash)) !== 'commit') objects.push(hash);
  const samples: Record<string, unknown> = {};
  for (const column of await stock.data.columns()) {
    for (const name of await stock.data.keys(column)) {
      const t = await stock.data.get(column, name);
      samples[`${column}/${name}`] = [t.dtype, t.shape, tensorValues(t)];
    }
  }
  return { tree: info.tree, objects: objects.sort(), samples };
}

async function packFiles(stock: StockRoom): Promise<string[]> {
  return (await readdir(join(stock.root, '.stock', 'packs')).catch(() => [])).sort();
}

describe('DataStorage.setMany', () => {
  it('stages and commits exactly what one set per sample does', async () => {
    const one = await newStock();
    const many = await newStock();
    // A first commit both share: 40 pictures and a float column.
    const base = Array.from({ length: 40 }, (_, i) => [`p-${i}`, picture(i)] as const);
    const floats = tensor(new Float32Array([1.5, -2, 3]), [3]);
    await one.optimize(async () => {
      for (const [name, t] of base) await one.data.set('images', name, t);
      await one.data.set('scores', 's-0', floats);
    });
    await many.optimize(async () => {
      await many.data.setMany('images', base);
      await many.data.setMany('scores', new Map([['s-0', floats]]));
    });
    const firstOne = await one.commit('base');
    const firstMany = await many.commit('base');
    expect(await contents(many, firstMany)).toEqual(await contents(one, firstOne));

    // Then: overwrite some, add more (some with bytes equal to others), a large sample that
    // stays loose, and a small batch of 3 outside any scope (written loose, as set does).
    const next = Array.from({ length: 600 }, (_, i) => [`p-${i + 20}`, picture(i + 1000)] as const);
    const large = tensor(
      new Float32Array(300_000).map((_, i) => i / 7),
      [300_000],
    );
    const few = { 'q-0': picture(7), 'q-1': picture(8), 'q-2': picture(9) };
    await one.optimize(async () => {
      for (const [name, t] of next) await one.data.set('images', name, t);
      await one.data.set('scores', 'big', large);
    });
    for (const [name, t] of Object.entries(few)) await one.data.set('images', name, t);
    await one.data.delete('images', 'p-3');
    await many.optimize(async () => {
      await many.data.setMany('images', next);
      await many.data.setMany('scores', [['big', large]]);
    });
    await many.data.setMany('images', few);
    await many.data.delete('images', 'p-3');
    expect(await many.status()).toEqual(await one.status());
    const secondOne = await one.commit('more');
    const secondMany = await many.commit('more');
    expect(await contents(many, secondMany)).toEqual(await contents(one, secondOne));
    expect(await packFiles(many)).toEqual(await packFiles(one));
    expect((await many.objects.check()).problems).toEqual([]);
  });

  it('does nothing for an empty batch', async () => {
    const stock = await newStock();
    await stock.data.setMany('images', []);
    await stock.data.setMany('images', {});
    expect(await stock.status()).toEqual({});
    expect(await stock.data.columns()).toEqual([]);
  });

  it('refuses a bad batch whole, keeping what was staged and committed', async () => {
    const stock = await newStock();
    await stock.data.setMany('images', [['kept', picture(1)]]);
    const committed = await stock.commit('one picture');
    await stock.data.set('images', 'staged', picture(2));
    const before = { status: await stock.status(), packs: await packFiles(stock) };
    const good = Array.from({ length: 30 }, (_, i) => [`new-${i}`, picture(i + 100)] as const);
    const floats = tensor(new Float32Array(784), [28, 28]);
    const bad: [string, unknown, RegExp][] = [
      ['a dtype other than the batch', [...good, ['f', floats]], /share a dtype: "new-0" is uint8, "f" is float32/],
      ['a dtype other than the column', [['f', floats]], /Column "images" holds uint8 samples/],
      ['a name given twice', [...good, ['new-3', picture(3)]], /"new-3" is given twice/],
      [
        'a shape its data does not fill',
        [['s', { dtype: 'uint8', shape: [28, 28], data: new Uint8Array(700) }]],
        /Shape \[28, 28\] holds 784 elements but 700/,
      ],
      [
        'data of another dtype',
        [['d', { dtype: 'uint8', shape: [196], data: new Float32Array(196) }]],
        /uint8 tensor holds its elements in a Uint8Array, not a Float32Array/,
      ],
      ['something not a tensor', [...good, ['x', [1, 2, 3]]], /Expected a stock tensor/],
      ['an entry not a pair', [['only-a-name']], /\[sample name, tensor\] pair/],
      ['a bad sample name', [['../up', picture(4)]], /sample/],
      ['not a collection', 'images', /setMany takes a Map/],
    ];
    for (const [what, batch, message] of bad) {
      await expect(stock.data.setMany('images', batch as never), what).rejects.toMatchObject({
        name: 'BadRequest',
        message: expect.stringMatching(message),
      });
      expect(await stock.status(), what).toEqual(before.status);
    }
    // Inside a scope too: the scope goes on, and a good batch after the bad one lands.
    await stock.optimize(async () => {
      await expect(stock.data.setMany('images', [...good, ['new-0', picture(5)]])).rejects.toThrow(/given twice/);
      await stock.data.setMany('images', good);
    });
    expect(await stock.head()).toBe(committed);
    const second = await stock.commit('thirty more');
    expect(await stock.data.keys('images')).toEqual(['kept', ...good.map(([name]) => name), 'staged'].sort());
    expect(tensorValues(await stock.data.get('images', 'staged'))).toEqual(tensorValues(picture(2)));
    expect((await stock.commitInfo(second)).parents).toEqual([committed]);
    expect((await stock.objects.check()).problems).toEqual([]);
    expect((await packFiles(stock)).length).toBe(before.packs.length + 2);
  });

  it('refuses, in set too, a tensor whose data does not fill its shape', async () => {
    const stock = await newStock();
    const forged = { dtype: 'uint8', shape: [2, 2], data: new Uint8Array(3) };
    await expect(stock.data.set('images', 'forged', forged as never)).rejects.toMatchObject({ name: 'BadRequest' });
    expect(await stock.status()).toEqual({});
  });
});
