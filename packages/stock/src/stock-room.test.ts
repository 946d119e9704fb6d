import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StockRoom } from './stock-room.js';
import { tensor, tensorValues } from './tensor/tensor.js';
import { tensorsOfEveryDType } from './test-support/all-dtypes.js';
import { newStock, objectCount } from './test-support/new-stock.js';

describe('StockRoom commits', () => {
  it('round-trips a sample of every dtype through a commit', async () => {
    const stock = await newStock();
    const all = tensorsOfEveryDType();
    for (const [dtype, t] of Object.entries(all)) await stock.data.set(dtype, 'only', t);
    await stock.commit('every dtype');
    const reader = new StockRoom({ path: stock.root });
    for (const [dtype, t] of Object.entries(all)) {
      const back = await reader.data.get(dtype, 'only');
      expect(back.dtype).toBe(t.dtype);
      expect(back.shape).toEqual(t.shape);
      expect(tensorValues(back)).toEqual(tensorValues(t));
    }
    expect(await reader.data.dtype('float16')).toBe('float16');
  });

  it('reads the commit in head.stock until the staged changes are committed', async () => {
    const stock = await newStock();
    await stock.tag.set('epochs', 10);
    const first = await stock.commit('ten epochs');
    await stock.tag.set('epochs', 20);
    expect(await stock.tag.get('epochs')).toBe(10);
    expect(await stock.status()).toEqual({ tag: { added: [], deleted: [], mutated: ['epochs'] } });
    await stock.optimize(async () => {
      expect(await stock.tag.get('epochs')).toBe(20);
    });
    const second = await stock.commit('twenty epochs');
    expect(await stock.tag.get('epochs')).toBe(20);
    expect((await readFile(join(stock.root, 'head.stock'), 'utf8')).trim()).toBe(second);
    expect((await stock.log()).map((c) => [c.id, c.message, c.parents])).toEqual([
      [second, 'twenty epochs', [first]],
      [first, 'ten epochs', []],
    ]);
    expect((await stock.log())[0]).toMatchObject({ author: 'tester' });
  });

  it('commits without moving head.stock with updateHead: false', async () => {
    const stock = await newStock();
    await stock.tag.set('epochs', 10);
    const first = await stock.commit('ten epochs');
    await stock.tag.set('epochs', 20);
    const side = await stock.commit('twenty epochs, on the side', { updateHead: false });
    expect((await readFile(join(stock.root, 'head.stock'), 'utf8')).trim()).toBe(first);
    expect(await stock.tag.get('epochs')).toBe(10);
    expect(await stock.status()).toEqual({});
    expect(await new StockRoom({ path: stock.root, commit: side }).tag.get('epochs')).toBe(20);
    expect(await stock.commitInfo(side)).toMatchObject({ parents: [first], message: 'twenty epochs, on the side' });
    await stock.checkout(side);
    expect(await stock.tag.get('epochs')).toBe(20);
  });

  it('keeps staged changes on disk for another process to commit', async () => {
    const stock = await newStock();
    await stock.data.set('images', 'a', tensor(new Uint8Array([1, 2])));
    const other = new StockRoom({ path: stock.root });
    const id = await other.commit('from elsewhere');
    expect(tensorValues(await stock.data.get('images', 'a'))).toEqual([1, 2]);
    expect(await stock.head()).toBe(id);
  });

  it('refuses empty commits and messages', async () => {
    const stock = await newStock();
    await expect(stock.commit('nothing')).rejects.toThrow('Nothing to commit');
    await stock.tag.set('x', 'y');
    await expect(stock.commit('  ')).rejects.toThrow('A commit needs a message');
    await stock.commit('x');
    await stock.tag.set('x', 'y');
    await expect(stock.commit('same value again')).rejects.toThrow('Nothing to commit');
    // A sample added then deleted, and a deletion of nothing, change nothing either...
    await stock.data.set('images', 'gone', tensor([1, 2]));
    await stock.data.delete('images', 'gone');
    await stock.tag.delete('never-set');
    await expect(stock.commit('added and removed')).rejects.toThrow('Nothing to commit');
    // ...but one real change among them does.
    await stock.tag.set('x', 'z');
    await stock.commit('x is z');
    expect(await stock.tag.get('x')).toBe('z');
  });

  it('diffs two commits per storage and key', async () => {
    const stock = await newStock();
    await stock.optimize(async () => {
      await stock.data.set('images', 'a', tensor([1]));
      await stock.data.set('images', 'b', tensor([2]));
      await stock.tag.set('lr', 0.1);
      await stock.model.saveWeights('net', [tensor([1, 2])]);
    });
    const first = await stock.commit('first');
    await stock.optimize(async () => {
      await stock.data.set('images', 'b', tensor([3]));
      await stock.data.delete('images', 'a');
      await stock.data.set('images', 'c', tensor([4]));
      await stock.data.set('labels', 'c', tensor([1], [1], 'int32'));
      await stock.tag.delete('lr');
    });
    const second = await stock.commit('second');
    const diff = await stock.diff(first.slice(0, 8), second);
    expect(diff).toEqual({
      from: first,
      to: second,
      storages: {
        'data/images': { added: ['c'], deleted: ['a'], mutated: ['b'] },
        'data/labels': { added: ['c'], deleted: [], mutated: [] },
        tag: { added: [], deleted: ['lr'], mutated: [] },
      },
    });
  });

  it('opens a read-only view of any past commit', async () => {
    const stock = await newStock();
    await stock.tag.set('stage', 'one');
    const first = await stock.commit('one');
    await stock.tag.set('stage', 'two');
    await stock.commit('two');
    const past = await StockRoom.open({ path: stock.root, commit: first.slice(0, 10) });
    expect(past.readOnly).toBe(true);
    expect(await past.head()).toBe(first);
    expect(await past.tag.get('stage')).toBe('one');
    expect(await stock.tag.get('stage')).toBe('two');
    await expect(past.tag.set('stage', 'three')).rejects.toThrow('read-only');
    await expect(past.commit('no')).rejects.toThrow('read-only');
    await expect(StockRoom.open({ path: stock.root, commit: 'abcdef12' })).rejects.toThrow(
      'No stock commit starts with',
    );
    await expect(StockRoom.open({ path: stock.root, commit: 'nope' })).rejects.toThrow('is not a commit id');
  });

  it('checks out an older commit and commits on top of it', async () => {
    const stock = await newStock();
    await stock.tag.set('v', 1);
    const first = await stock.commit('1');
    await stock.tag.set('v', 2);
    await stock.commit('2');
    expect(await stock.checkout(first.slice(0, 6))).toBe(first);
    expect(await stock.tag.get('v')).toBe(1);
    await stock.tag.set('w', true);
    const third = await stock.commit('3');
    expect((await stock.log()).map((c) => c.id)).toEqual([third, first]);
  });

  it('stores an unchanged tensor once: an unchanged layer or sample costs no object file', async () => {
    const stock = await newStock();
    const layers = [tensor(new Float32Array(1000).fill(1)), tensor(new Float32Array(10).fill(2))];
    await stock.model.saveWeights('net', layers);
    await stock.commit('first');
    const before = await objectCount(stock);
    await stock.model.saveWeights('net', [layers[0] as never, tensor(new Float32Array(10).fill(3))]);
    await stock.data.set('images', 'copy-of-layer', layers[0] as never);
    await stock.commit('second');
    // New: the changed layer, the model manifest and the commit. The copy of layer 0 is free.
    expect(await objectCount(stock)).toBe(before + 3);
  });

  it('detects a corrupted object when it is read', async () => {
    const stock = await newStock();
    await stock.data.set('images', 'a', tensor(new Float32Array([1, 2, 3, 4])));
    await stock.commit('one');
    const hash = (await stock.commitInfo('head')).tree['data/images']?.a as string;
    const path = stock.objects.pathOf(hash);
    const bytes = await readFile(path);
    bytes.writeUInt8((bytes.at(-1) as number) ^ 0xff, bytes.length - 1);
    await writeFile(path, bytes);
    await expect(stock.data.get('images', 'a')).rejects.toThrow(`Stock object ${hash.slice(0, 12)} is corrupted`);
  });

  it('refuses hostile names with a sentence', async () => {
    const stock = await newStock();
    const t = tensor([1]);
    await expect(stock.data.set('../escape', 'a', t)).rejects.toThrow('contains a path separator');
    await expect(stock.data.set('images', 'a/b', t)).rejects.toThrow('contains a path separator');
    await expect(stock.data.set('images', 'a\\b', t)).rejects.toThrow('contains a path separator');
    await expect(stock.data.set('images', '..', t)).rejects.toThrow('"." and ".." are reserved');
    await expect(stock.data.set('', 'a', t)).rejects.toThrow('A column name must be a non-empty string');
    await expect(stock.tag.set('bad\nname', 1)).rejects.toThrow('contains control characters');
    await expect(stock.model.saveWeights('__proto__', [t])).rejects.toThrow('"__proto__" cannot name a model');
    await expect(stock.model.saveWeights('net', { '': t })).rejects.toThrow('A tensor name must be a non-empty string');
    expect(await stock.status()).toEqual({});
  });

  it('keeps one dtype per data column', async () => {
    const stock = await newStock();
    await stock.data.set('images', 'a', tensor(new Uint8Array(4), [2, 2]));
    await stock.data.set('images', 'b', tensor(new Uint8Array(9), [3, 3]));
    await expect(stock.data.set('images', 'c', tensor([1]))).rejects.toThrow(
      'Column "images" holds uint8 samples; "c" is float32',
    );
    await stock.commit('images');
    expect(await stock.data.keys('images')).toEqual(['a', 'b']);
    expect(await stock.data.columns()).toEqual(['images']);
    expect(await stock.data.has('images', 'b')).toBe(true);
    expect(await stock.data.delete('images', 'zzz')).toBe(false);
    await expect(stock.data.get('images', 'zzz')).rejects.toThrow('No sample "zzz" in data column "images"');
  });

  it('runs many writes under one lock in optimize, and blocks another writer meanwhile', async () => {
    const stock = await newStock();
    const other = new StockRoom({ path: stock.root });
    await stock.optimize(async () => {
      await Promise.all(
        Array.from({ length: 50 }, (_, i) => stock.data.set('n', `s${i}`, tensor(new Int32Array([i])))),
      );
      await expect(other.tag.set('x', 1)).rejects.toMatchObject({ name: 'Conflict' });
      await stock.commit('fifty');
      expect(await stock.data.keys('n')).toHaveLength(50);
    });
    await other.tag.set('x', 1);
    expect(tensorValues(await other.data.get('n', 's42'))).toEqual([42]);
  });

  it('serialises concurrent writes from one StockRoom', async () => {
    const stock = await newStock();
    await Promise.all(Array.from({ length: 20 }, (_, i) => stock.tag.set(`t${i}`, i)));
    await stock.commit('twenty tags');
    expect(await stock.tag.keys()).toHaveLength(20);
  });

  it('explains a head.stock that holds no commit id', async () => {
    const stock = await newStock();
    await writeFile(join(stock.root, 'head.stock'), '<<<<<<< HEAD\n');
    await expect(stock.tag.keys()).rejects.toThrow('does not hold a commit id');
  });
});
