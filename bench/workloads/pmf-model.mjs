/**
 * A PMF model to push: `count` checkpoints of random bytes (incompressible, all distinct)
 * saved as a PMF tree with `@larder/pmf`, and the same model saved again over its tree with
 * one checkpoint retrained, as a training script would.
 */
import { mkdir, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { makeRandomFile } from './blob-file.mjs';

const PMF = pathToFileURL(new URL('../../packages/pmf/dist/index.js', import.meta.url).pathname).href;

const IDENTITY = {
  producerName: 'larder_bench',
  producerVersionFormat: 'py_pa',
  producerVersion: '1.0.0',
  name: 'bench-model',
  id: 'bench-model-id',
  buildParameters: { layers: 50, width: 1024 },
};

/** Random checkpoint files `epoch-1.bin`… under `folder`, plus the producer's configuration. */
export async function writeCheckpointSources(folder, count, bytes) {
  await mkdir(folder, { recursive: true });
  const configuration = join(folder, 'train.yaml');
  await writeFile(configuration, 'learning_rate: 0.001\nbatch_size: 64\n');
  const checkpoints = [];
  for (let epoch = 1; epoch <= count; epoch += 1) {
    checkpoints.push(await makeRandomFile(join(folder, `epoch-${epoch}.bin`), bytes));
  }
  return { configuration, checkpoints: checkpoints.map((file) => file.path) };
}

/**
 * Saves a finished model whose checkpoint `epoch` is `checkpoints[epoch - 1]` at `tree`
 * (`force` saves over the same model, rewriting only files whose content changed).
 * @returns {Promise<{ copied: string[], unchanged: string[] }>} what the save wrote
 */
export async function savePmfModel(tree, { configuration, checkpoints }, force = false) {
  const { Checkpoint, Model } = await import(PMF);
  const model = new Model({ ...IDENTITY, configuration });
  model.registerTrainingStart(0);
  for (const [index, path] of checkpoints.entries()) {
    model.addCheckpoint(await Checkpoint.fromFile(index + 1, path, index + 1));
    model.registerEpoch(index + 1);
  }
  model.registerTrainingEnd(true);
  const report = await model.save(tree, { force });
  // On the disk before anything is timed: the save's writeback must not compete with the
  // push's writes (nor be counted as the raw disk's speed).
  for (const path of report.copied) {
    const handle = await open(join(tree, path), 'r+');
    await handle.sync();
    await handle.close();
  }
  return { copied: report.copied, unchanged: report.unchanged };
}

export const PMF_MODEL_NAME = IDENTITY.name;
