import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors } from '../safetensors/safetensors-format.js';
import { StockRoom } from '../stock-room.js';
import { type Tensor, tensor, tensorValues } from '../tensor/tensor.js';
import { fromTfjs, toTfjs } from '../tensor/tfjs-bridge.js';
import { tensorsOfEveryDType } from '../test-support/all-dtypes.js';
import { newStock } from '../test-support/new-stock.js';
import { temporaryDirectory } from '../test-support/temp-directory.js';

function smallModel(): tf.Sequential {
  const model = tf.sequential();
  model.add(tf.layers.dense({ units: 8, inputShape: [4], activation: 'relu' }));
  model.add(tf.layers.dense({ units: 3, activation: 'softmax' }));
  return model;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('model weights', () => {
  it('restores named tensors of every dtype with their names, shapes and dtypes', async () => {
    const stock = await newStock();
    const weights = tensorsOfEveryDType();
    const saved = await stock.model.saveWeights('zoo', weights, { framework: 'custom', frameworkVersion: '1.2' });
    expect(saved).toMatchObject({ framework: 'custom', frameworkVersion: '1.2', layout: 'map' });
    await stock.commit('zoo');
    const loaded = (await stock.model.loadWeights('zoo')) as Record<string, Tensor>;
    expect(Object.keys(loaded)).toEqual(Object.keys(weights));
    for (const [name, t] of Object.entries(weights)) {
      expect(loaded[name]).toMatchObject({ dtype: t.dtype, shape: t.shape });
      expect(tensorValues(loaded[name] as Tensor)).toEqual(tensorValues(t));
    }
    expect(await stock.model.keys()).toEqual(['zoo']);
    await expect(stock.model.loadWeights('other')).rejects.toThrow('No model "other" in this stock commit');
  });

  it('restores an ordered list as a list', async () => {
    const stock = await newStock();
    await stock.model.saveWeights('list', [tensor([3]), tensor([1, 2], [1, 2])]);
    await stock.commit('list');
    const loaded = (await stock.model.loadWeights('list')) as Tensor[];
    expect(Array.isArray(loaded)).toBe(true);
    expect(loaded.map((t) => t.shape)).toEqual([[1], [1, 2]]);
    expect([...(await stock.model.loadWeightMap('list')).keys()]).toEqual(['0', '1']);
  });

  it('saves a tfjs model, records tfjs and its version, and loads the weights into a fresh model', async () => {
    const stock = await newStock();
    const model = smallModel();
    const info = await stock.model.saveWeights('classifier', model);
    expect(info).toMatchObject({ framework: 'tfjs', frameworkVersion: tf.version_core, layout: 'list' });
    expect(info.tensors.map((t) => t.shape)).toEqual([[4, 8], [8], [8, 3], [3]]);
    expect(info.tensors[0]?.name).toMatch(/kernel/);
    await stock.commit('trained');

    const fresh = smallModel();
    const input = tf.tensor2d([[0.1, -0.2, 0.3, 0.4]]);
    const expected = (model.predict(input) as tf.Tensor).dataSync();
    expect((fresh.predict(input) as tf.Tensor).dataSync()).not.toEqual(expected);
    await new StockRoom({ path: stock.root }).model.loadWeights('classifier', fresh);
    expect((fresh.predict(input) as tf.Tensor).dataSync()).toEqual(expected);

    const wrong = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [4] })] });
    await expect(stock.model.loadWeights('classifier', wrong)).rejects.toThrow('does not fit this model');
  });

  it('converts tensors to and from tfjs', async () => {
    const back = fromTfjs(await toTfjs(tensor(new Int16Array([1, -2, 3, 4]), [2, 2])));
    expect(back).toMatchObject({ dtype: 'int32', shape: [2, 2] });
    expect(tensorValues(back)).toEqual([1, -2, 3, 4]);
    expect(tensorValues(fromTfjs(await toTfjs(tensor([true, false]))))).toEqual([true, false]);
    expect(tensorValues(fromTfjs(await toTfjs(tensor([0.5, 2], [2], 'float16'))))).toEqual([0.5, 2]);
    await expect(toTfjs(tensor([2n ** 40n], [1], 'int64'))).rejects.toThrow('does not fit TensorFlow.js int32');
    expect(() => fromTfjs(tf.complex([1], [1]))).toThrow('complex64 tensors cannot be stored');
    const stock = await newStock();
    await stock.optimize(async () => {
      await stock.data.set('x', 'a', tf.tensor2d([[1, 2]]));
      expect(await stock.data.get('x', 'a')).toMatchObject({ dtype: 'float32', shape: [1, 2] });
    });
  });

  it('exports a model as safetensors and imports it back as the same weights', async () => {
    const stock = await newStock();
    await stock.model.saveWeights('classifier', smallModel());
    await stock.commit('trained');
    const path = join(await temporaryDirectory(), 'classifier.safetensors');
    await stock.model.exportSafetensors('classifier', path);
    const file = decodeSafetensors(await readFile(path));
    expect(file.metadata).toMatchObject({
      framework: 'tfjs',
      framework_version: tf.version_core,
      'larder.layout': 'list',
    });

    await stock.model.importSafetensors('copy', path);
    await stock.commit('imported');
    const original = await stock.model.loadWeightList('classifier');
    const copy = await stock.model.loadWeights('copy');
    expect(Array.isArray(copy)).toBe(true);
    expect((copy as Tensor[]).map(tensorValues)).toEqual(original.map(tensorValues));
    expect(await stock.model.describe('copy')).toMatchObject({ framework: 'tfjs', layout: 'list' });
    // Same bytes, so importing stored nothing new but a manifest.
    expect((await stock.diff('head', 'head')).storages).toEqual({});
  });

  it('imports a foreign safetensors file as named tensors', async () => {
    const stock = await newStock();
    const path = join(await temporaryDirectory(), 'foreign.safetensors');
    await writeFile(
      path,
      encodeSafetensors(
        new Map([
          ['b', tensor([1])],
          ['a', tensor([2, 3])],
        ]),
      ),
    );
    const info = await stock.model.importSafetensors('foreign', path);
    expect(info).toMatchObject({ framework: 'safetensors', layout: 'map' });
    await stock.commit('foreign');
    const loaded = (await stock.model.loadWeights('foreign')) as Record<string, Tensor>;
    expect(Object.keys(loaded)).toEqual(['b', 'a']);
    await writeFile(path, Buffer.from('not a safetensors file'));
    await expect(stock.model.importSafetensors('bad', path)).rejects.toThrow(/^Malformed safetensors file/);
  });
});
