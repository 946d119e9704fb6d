#!/usr/bin/env node
/**
 * Stock throughput on this machine, printed as JSON. Run after `npm run build`:
 *   node packages/stock/bench/stock-bench.mjs [--layers 50] [--layer-mb 2] [--samples 10000]
 * Model weights: save + commit, then read back in a fresh StockRoom (MB/s). Samples: 10k small
 * uint8 images written inside optimize() then committed, and read back (samples/s).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { initStock, StockRoom, tensor } from '../dist/index.js';

const { values } = parseArgs({
  options: {
    layers: { type: 'string', default: '50' },
    'layer-mb': { type: 'string', default: '2' },
    samples: { type: 'string', default: '10000' },
  },
});
const layers = Number(values.layers);
const layerBytes = Number(values['layer-mb']) * 1024 * 1024;
const samples = Number(values.samples);

const seconds = (start) => Number(process.hrtime.bigint() - start) / 1e9;
const round = (value) => Math.round(value * 10) / 10;

const dir = await mkdtemp(join(tmpdir(), 'larder-stock-bench-'));
try {
  await initStock(dir);
  const stock = new StockRoom({ path: dir, author: 'bench' });

  const weights = {};
  for (let i = 0; i < layers; i++) {
    const data = new Float32Array(layerBytes / 4);
    for (let j = 0; j < data.length; j++) data[j] = Math.sin(i * 7919 + j);
    weights[`layer_${i}/kernel`] = tensor(data, [data.length / 256, 256]);
  }
  const totalMb = (layers * layerBytes) / 1024 / 1024;

  let start = process.hrtime.bigint();
  await stock.model.saveWeights('big', weights);
  await stock.commit('weights');
  const writeSeconds = seconds(start);

  start = process.hrtime.bigint();
  const loaded = await new StockRoom({ path: dir }).model.loadWeights('big');
  const readSeconds = seconds(start);
  if (Object.keys(loaded).length !== layers) throw new Error('read back the wrong number of layers');

  // Change one layer: the other 49 are already stored and cost only a hash.
  weights['layer_0/kernel'] = tensor(new Float32Array(layerBytes / 4).fill(1), [layerBytes / 4 / 256, 256]);
  start = process.hrtime.bigint();
  await stock.model.saveWeights('big', weights);
  await stock.commit('one layer changed');
  const resaveSeconds = seconds(start);

  const exportPath = join(dir, 'big.safetensors');
  start = process.hrtime.bigint();
  await stock.model.exportSafetensors('big', exportPath);
  const exportSeconds = seconds(start);
  start = process.hrtime.bigint();
  await stock.model.importSafetensors('imported', exportPath);
  const importSeconds = seconds(start);

  start = process.hrtime.bigint();
  await stock.optimize(async () => {
    for (let i = 0; i < samples; i++) {
      const pixels = new Uint8Array(28 * 28);
      pixels[0] = i & 0xff;
      pixels[1] = i >> 8;
      await stock.data.set('images', `sample-${i}`, tensor(pixels, [28, 28]));
    }
  });
  await stock.commit('samples');
  const sampleWriteSeconds = seconds(start);

  const reader = new StockRoom({ path: dir, commit: await stock.head() });
  start = process.hrtime.bigint();
  await reader.optimize(async () => {
    for (let i = 0; i < samples; i++) await reader.data.get('images', `sample-${i}`);
  });
  const sampleReadSeconds = seconds(start);

  console.log(
    JSON.stringify(
      {
        node: process.version,
        weights: {
          layers,
          totalMb,
          writeAndCommitMbPerS: round(totalMb / writeSeconds),
          readMbPerS: round(totalMb / readSeconds),
          resaveOneLayerChangedSeconds: Math.round(resaveSeconds * 1000) / 1000,
          exportSafetensorsMbPerS: round(totalMb / exportSeconds),
          importSafetensorsMbPerS: round(totalMb / importSeconds),
        },
        samples: {
          count: samples,
          bytesEach: 28 * 28,
          writeAndCommitPerS: Math.round(samples / sampleWriteSeconds),
          readPerS: Math.round(samples / sampleReadSeconds),
        },
      },
      null,
      2,
    ),
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
