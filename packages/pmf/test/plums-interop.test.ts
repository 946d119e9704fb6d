/**
 * Interoperability with the plums reference implementation (`pip install plums==0.5.2`):
 * trees saved here must load in plums, and trees plums saves must load here. Skipped where
 * plums cannot be imported.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Checkpoint, Model, PmfMetadataValidationError, validateModel } from '../src/index.js';

const scripts = fileURLToPath(new URL('./plums/', import.meta.url));
const plumsAvailable = spawnSync('python3', ['-c', 'import plums.model'], { stdio: 'ignore' }).status === 0;

/** Runs one of the Python scripts in test/plums and parses the JSON it prints. */
function python(script: string, ...args: string[]): any {
  const env = { ...process.env, PYTHONDONTWRITEBYTECODE: '1' }; // keep __pycache__ out of the source tree
  const result = spawnSync('python3', [join(scripts, script), ...args], { encoding: 'utf8', env });
  if (result.status !== 0) throw new Error(`${script} failed:\n${result.stderr}`);
  return JSON.parse(result.stdout);
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'larder-plums-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function file(name: string, content: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

async function larderModel(id: string): Promise<Model> {
  const model = new Model({
    producerName: 'larder',
    producerVersionFormat: 'py_pa',
    producerVersion: '1.0-RC.1',
    name: `larder ${id}`,
    id,
    configuration: await file(`${id}.yaml`, 'optimiser: adam\n'),
    buildParameters: { layers: 4, labels: ['yes', 'no', '.'], ratio: 0.25 },
  });
  model.registerTrainingStart(1);
  model.addCheckpoint(await Checkpoint.fromFile(3, await file(`${id}-3.bin`, 'three'), 3));
  model.registerEpoch(3);
  model.addCheckpoint(await Checkpoint.fromFile('10', await file(`${id}-10.bin`, 'ten'), 3));
  model.registerEpoch();
  model.registerTrainingEnd(true);
  return model;
}

describe.runIf(plumsAvailable)('interoperability with plums 0.5.2', () => {
  it('plums loads, strictly, a model saved here with a PMF and a file initialisation', async () => {
    const base = await larderModel('base');
    await base.save(join(dir, 'base'));
    const child = await larderModel('child');
    await child.registerInitialisation(join(dir, 'base'), '10');
    await child.save(join(dir, 'child'));

    const read = python('read_model.py', join(dir, 'child'));
    expect(read.ok).toBe(true);
    const summary = read.model;
    expect(summary).toMatchObject({
      name: 'larder child',
      id: 'child',
      producer: { name: 'larder', format: 'py_pa', version: '1.0rc1' },
      build_parameters: { layers: 4, labels: ['yes', 'no', '.'], ratio: 0.25 },
      training: { status: 'finished', start_epoch: 1, latest_epoch: 4, end_epoch: 4 },
      latest: '10',
      checkpoints: [
        { reference: 3, epoch: 3, hash: child.checkpointCollection.get(3)?.hash },
        { reference: '10', epoch: 3, hash: child.checkpointCollection.get('10')?.hash },
      ],
      initialisation: { kind: 'pmf', checkpoint: '10', model: { id: 'base', latest: '10' } },
    });
    expect(summary.training.start_time).toBe(child.training.startTimestamp);

    const withFile = await larderModel('file-init');
    await withFile.registerInitialisation(await file('pretrained.h5', 'imagenet'), undefined, 'imagenet');
    await withFile.save(join(dir, 'file-init'));
    expect(python('read_model.py', join(dir, 'file-init')).model.initialisation).toEqual({
      kind: 'file',
      name: 'imagenet',
      hash: (withFile.initialisation as Checkpoint).hash,
    });
  });

  it('loads, strictly, a model plums saved, and plums loads it again after saving it here', async () => {
    const written = python('write_model.py', dir, join(dir, 'plums-model'));
    expect(await validateModel(join(dir, 'plums-model'), { strict: true })).toEqual([]);

    const model = await Model.load(join(dir, 'plums-model'));
    expect([model.name, model.id, model.producer.version.value]).toEqual(['tuned', 'tuned-id', '1.0.post2']);
    expect(model.buildParameters).toEqual(written.build_parameters);
    expect(model.training.toTimeline()).toEqual({
      status: 'failed',
      start_epoch: 2,
      latest_epoch: 10,
      end_epoch: 10,
      start_time: written.training.start_time,
      latest_time: written.training.latest_time,
      end_time: written.training.end_time,
    });
    expect([...model.checkpointCollection].map(([reference, checkpoint]) => [reference, checkpoint.hash])).toEqual(
      written.checkpoints.map((checkpoint: any) => [checkpoint.reference, checkpoint.hash]),
    );
    const base = model.initialisation as Model;
    expect([base.id, base.checkpoint, base.training.status]).toEqual(['base-id', 'warm', 'finished']);

    await model.save(join(dir, 'resaved'));
    const reread = python('read_model.py', join(dir, 'resaved'));
    expect(reread.ok).toBe(true);
    expect(reread.model).toEqual(written);
  });

  it('agrees with plums that a tree breaking a training rule is invalid', async () => {
    await (await larderModel('broken')).save(join(dir, 'broken'));
    const metadata = join(dir, 'broken', 'metadata.yaml');
    await writeFile(metadata, (await readFile(metadata, 'utf8')).replace('start_epoch: 1', 'start_epoch: 7'));

    // plums reports metadata offences found during a tree walk as a tree validation error.
    expect(python('read_model.py', join(dir, 'broken'))).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^PlumsModel(Tree|Metadata)ValidationError$/),
      message: expect.stringContaining('Training'),
    });
    await expect(Model.load(join(dir, 'broken'))).rejects.toBeInstanceOf(PmfMetadataValidationError);
  });
});
