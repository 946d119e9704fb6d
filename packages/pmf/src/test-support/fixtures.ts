/** Temporary directories and small models for the tests. */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Checkpoint } from '../components/checkpoint.js';
import { Model } from '../model/model.js';

export interface Workspace {
  dir: string;
  /** Writes `content` at `relative` (creating folders) and returns the absolute path. */
  file(relative: string, content: string): Promise<string>;
  read(relative: string): Promise<string>;
  path(...parts: string[]): string;
  remove(): Promise<void>;
}

export async function workspace(): Promise<Workspace> {
  const dir = await mkdtemp(join(tmpdir(), 'larder-pmf-'));
  return {
    dir,
    async file(relative, content) {
      const path = join(dir, relative);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, content);
      return path;
    },
    read: (relative) => readFile(join(dir, relative), 'utf8'),
    path: (...parts) => join(dir, ...parts),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

let clockValue = 1_700_000_000;
/** A clock that moves one second per reading, so start ≤ latest ≤ end always holds. */
export const steppingClock = () => (clockValue += 1);

/** A finished model with two checkpoints (references `1` and `'best'`) whose sources live in `ws/src`. */
export async function trainedModel(ws: Workspace, id = 'model-1'): Promise<Model> {
  const model = new Model({
    producerName: 'larder_tests',
    producerVersionFormat: 'py_pa',
    producerVersion: '1.2.0',
    name: 'trained',
    id,
    configuration: await ws.file('src/config.yaml', 'learning_rate: 0.1\n'),
    buildParameters: { layers: 3, activation: 'relu' },
  });
  model.registerTrainingStart(0);
  model.addCheckpoint(await Checkpoint.fromFile(1, await ws.file('src/epoch-1.bin', 'weights one'), 1));
  model.registerEpoch(1);
  model.addCheckpoint(await Checkpoint.fromFile('best', await ws.file('src/best.bin', 'best weights'), 2));
  model.registerEpoch(2);
  model.registerTrainingEnd(true);
  return model;
}
