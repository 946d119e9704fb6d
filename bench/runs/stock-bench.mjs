/**
 * Stock (`@larder/stock`) on a model's weights: the commit of a large model (save + commit,
 * MB/s), a second commit after one layer changed (bytes the process wrote and bytes of new
 * objects: that layer, its manifest and the commit only), the weights loaded back by a fresh
 * StockRoom (MB/s), and the push of both commits to a real `larder serve` (MB/s).
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { round } from '../measure/percentiles.mjs';
import { bytesWrittenByProcess, folderBytes } from '../measure/process-writes.mjs';
import { startLarder } from '../servers/larder-server.mjs';
import { makeWeights, retrainLayer } from '../workloads/stock-weights.mjs';

const STOCK = pathToFileURL(new URL('../../packages/stock/dist/index.js', import.meta.url).pathname).href;
const LAYERS = 50;
const MIB = 1024 * 1024;

const mbPerSec = (bytes, seconds) => Math.round(bytes / 1e6 / seconds);

async function timed(work) {
  const started = performance.now();
  const answer = await work();
  return { answer, seconds: (performance.now() - started) / 1000 };
}

const bytesOf = (view) => Buffer.from(view.buffer, view.byteOffset, view.byteLength);
const sameBytes = (a, b) => a !== undefined && bytesOf(a).equals(bytesOf(b));

/** Saves and commits `weights`, counting what the process wrote and the objects it added. */
async function commitWeights(room, weights, message) {
  const objects = join(room.root, '.stock', 'objects');
  const objectsBefore = await folderBytes(objects);
  const writtenBefore = await bytesWrittenByProcess();
  const { seconds } = await timed(async () => {
    await room.model.saveWeights('bench', weights);
    await room.commit(message);
  });
  const written = (await bytesWrittenByProcess()) - writtenBefore;
  const objectsAfter = await folderBytes(objects);
  return {
    seconds: round(seconds, 3),
    processBytesWritten: written,
    objectsAdded: objectsAfter.files - objectsBefore.files,
    objectBytesAdded: objectsAfter.bytes - objectsBefore.bytes,
  };
}

/** @returns {Promise<object>} the stock figures */
export async function benchStock(tempRoot, modelMiB, log) {
  const { HttpStockRemote, initStock, pushStock, StockRoom, tensor } = await import(STOCK);
  const modelBytes = modelMiB * MIB;
  const layerBytes = Math.floor(modelBytes / LAYERS / 1024) * 1024;
  const path = join(tempRoot, 'stock');
  await initStock(path);
  const room = new StockRoom({ path, author: 'bench' });
  log(`stock: committing a ${modelMiB} MiB model (${LAYERS} float32 layers)`);
  let weights = makeWeights(tensor, LAYERS, layerBytes);
  const weightBytes = LAYERS * layerBytes;
  const first = await commitWeights(room, weights, 'weights');
  log('stock: one layer changed, committed again; weights loaded back');
  weights = retrainLayer(tensor, weights, 7, layerBytes);
  const second = await commitWeights(room, weights, 'layer 7 retrained');
  const load = await timed(() => new StockRoom({ path }).model.loadWeights('bench'));
  const loaded = /** @type {Record<string, { data: Float32Array }>} */ (load.answer);
  const changed = 'layer_7/kernel';
  if (Object.keys(loaded).length !== LAYERS || !sameBytes(loaded[changed]?.data, weights[changed].data)) {
    throw new Error('The weights loaded back differ from the ones committed');
  }
  weights = undefined;

  log('stock: pushing both commits to Larder');
  const server = await startLarder(join(tempRoot, 'stock-data'));
  const remote = new HttpStockRemote({ url: server.url });
  try {
    const push = await timed(() => pushStock(room, remote, { repo: 'bench' }));
    return {
      available: true,
      layers: LAYERS,
      layerBytes,
      modelBytes: weightBytes,
      commit: { ...first, mbPerSec: mbPerSec(weightBytes, first.seconds) },
      commitAfterOneLayer: second,
      load: { seconds: round(load.seconds, 3), mbPerSec: mbPerSec(weightBytes, load.seconds) },
      push: {
        seconds: round(push.seconds, 3),
        commits: push.answer.commits,
        objects: push.answer.objects,
        bytes: push.answer.bytes,
        mbPerSec: mbPerSec(push.answer.bytes, push.seconds),
      },
    };
  } finally {
    await remote.close();
    await server.stop();
  }
}
