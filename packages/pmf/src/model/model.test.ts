import { readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Checkpoint } from '../components/checkpoint.js';
import { PmfError, PmfModelError } from '../errors/pmf-error.js';
import {
  PmfMetadataValidationError,
  PmfTreeValidationError,
  PmfValidationError,
} from '../errors/pmf-validation-error.js';
import { trainedModel, type Workspace, workspace } from '../test-support/fixtures.js';
import { initialisation } from './initialisation.js';
import { Model } from './model.js';

let ws: Workspace;
beforeEach(async () => {
  ws = await workspace();
});
afterEach(() => ws.remove());

/** Everything under `dir`, as sorted relative paths. */
async function listing(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.map(String).sort();
}

describe('Model save and load', () => {
  it('round-trips every field', async () => {
    const model = await trainedModel(ws);
    const report = await model.save(ws.path('out'));
    expect(report.copied).toEqual(
      expect.arrayContaining(['config.yaml', 'data/checkpoints/epoch-1.bin', 'data/checkpoints/best.bin']),
    );
    expect(await listing(ws.path('out'))).toEqual([
      'config.yaml',
      'data',
      'data/build_parameters.yaml',
      'data/checkpoints',
      'data/checkpoints/best.bin',
      'data/checkpoints/epoch-1.bin',
      'data/initialisation',
      'metadata.yaml',
    ]);

    const loaded = await Model.load(ws.path('out'));
    expect(loaded.path).toBe(ws.path('out'));
    expect([loaded.name, loaded.id, loaded.buildParameters]).toEqual([model.name, model.id, model.buildParameters]);
    expect(loaded.producer.equals(model.producer)).toBe(true);
    expect(await loaded.producer.strictEquals(model.producer)).toBe(true);
    expect(loaded.training.toTimeline()).toEqual(model.training.toTimeline());
    expect(loaded.checkpointCollection.equals(model.checkpointCollection)).toBe(true);
    expect([...loaded.checkpointCollection.keys()]).toEqual([1, 'best']);
    expect(loaded.checkpointCollection.latest).toBe('best');
    expect(loaded.initialisation).toBeNull();
    expect(loaded.checkpointCollection.get(1)?.path).toBe(ws.path('out', 'data', 'checkpoints', 'epoch-1.bin'));
  });

  it('writes metadata.yaml in the PMF shape, every field present', async () => {
    const model = new Model({
      producerName: 'pkg',
      producerVersionFormat: 'py_pa',
      producerVersion: '2.0',
      name: null,
      id: '42',
      configuration: await ws.file('src/c.json', '{}'),
    });
    await model.save(ws.path('out'));
    const expected = [
      'format:',
      '  version: 1.0.0',
      '  producer:',
      '    name: pkg',
      '    version:',
      '      format: py_pa',
      '      value: "2.0"',
      'model:',
      '  name: null',
      '  id: "42"',
      '  configuration:',
      '    path: c.json',
      '    hash: 99914b932bd37a50b983c5e7c90ae93b',
      '  initialisation: null',
      '  training:',
      '    status: pending',
      '    start_time: null',
      '    start_epoch: null',
      '    latest_time: null',
      '    latest_epoch: null',
      '    end_time: null',
      '    end_epoch: null',
      '    latest: null',
      '    checkpoints: {}',
      '',
    ];
    expect(await ws.read('out/metadata.yaml')).toBe(expected.join('\n'));
    expect(await ws.read('out/data/build_parameters.yaml')).toBe('{}\n');
  });

  it('copies only files whose content changed when saving again', async () => {
    const model = await trainedModel(ws);
    const out = ws.path('out');
    await model.save(out);
    const past = new Date('2001-01-01T00:00:00Z');
    await utimes(ws.path('out', 'data', 'checkpoints', 'epoch-1.bin'), past, past);

    await writeFile(ws.path('src', 'best.bin'), 'better weights');
    model.checkpointCollection.set('best', await Checkpoint.fromFile('best', ws.path('src', 'best.bin'), 2));
    const report = await model.save(out, { force: true });

    expect(report.unchanged).toEqual(
      expect.arrayContaining(['config.yaml', 'data/checkpoints/epoch-1.bin', 'data/build_parameters.yaml']),
    );
    expect(report.copied).toEqual(['data/checkpoints/best.bin', 'metadata.yaml']);
    expect((await stat(ws.path('out', 'data', 'checkpoints', 'epoch-1.bin'))).mtime).toEqual(past);
    expect(await ws.read('out/data/checkpoints/best.bin')).toBe('better weights');
    expect((await Model.load(out)).checkpointCollection.get('best')?.hash).toBe(
      model.checkpointCollection.get('best')?.hash,
    );
  });

  it('saves a loaded model back onto itself without copying anything', async () => {
    await (await trainedModel(ws)).save(ws.path('out'));
    const loaded = await Model.load(ws.path('out'));
    loaded.name = 'renamed';
    const report = await loaded.save(ws.path('out'), { force: true });
    expect(report.copied).toEqual(['metadata.yaml']);
    expect((await Model.load(ws.path('out'))).name).toBe('renamed');
  });
});

describe('Model save destinations', () => {
  it('refuses a file destination', async () => {
    const model = await trainedModel(ws);
    await expect(model.save(await ws.file('a-file', 'x'))).rejects.toMatchObject({ code: 'destination-is-file' });
  });

  it('refuses a non-empty non-PMF directory unless forced, and leaves it untouched', async () => {
    const model = await trainedModel(ws);
    await ws.file('out/notes.txt', 'mine');
    await expect(model.save(ws.path('out'))).rejects.toMatchObject({ code: 'destination-not-empty' });
    expect(await listing(ws.path('out'))).toEqual(['notes.txt']);
    await model.save(ws.path('out'), { force: true });
    expect(await ws.read('out/notes.txt')).toBe('mine');
    await expect(Model.load(ws.path('out'))).resolves.toBeInstanceOf(Model);
  });

  it('refuses a model with the same id unless forced, and a different id always', async () => {
    const model = await trainedModel(ws, 'same');
    await model.save(ws.path('out'));
    await expect(model.save(ws.path('out'))).rejects.toMatchObject({ code: 'destination-model-exists' });
    await expect(model.save(ws.path('out'), { force: true })).resolves.toBeDefined();
    const other = await trainedModel(ws, 'other');
    await expect(other.save(ws.path('out'), { force: true })).rejects.toMatchObject({
      code: 'destination-different-model',
    });
    expect((await Model.load(ws.path('out'))).id).toBe('same');
  });

  it('refuses a directory whose metadata.yaml is malformed, even when forced, without overwriting it', async () => {
    await ws.file('out/metadata.yaml', 'model: [oops\n');
    const model = await trainedModel(ws);
    await expect(model.save(ws.path('out'), { force: true })).rejects.toMatchObject({
      code: 'destination-invalid-metadata',
    });
    expect(await ws.read('out/metadata.yaml')).toBe('model: [oops\n');
    expect(await listing(ws.path('out'))).toEqual(['metadata.yaml']);
  });

  it('writes nothing when a checkpoint file has disappeared', async () => {
    const model = await trainedModel(ws);
    await rm(ws.path('src', 'best.bin'));
    await expect(model.save(ws.path('out'))).rejects.toThrow(/Checkpoint "best" file .* does not exist/);
    await expect(stat(ws.path('out'))).rejects.toThrow();
  });

  it('refuses two checkpoints with the same file name', async () => {
    const model = await trainedModel(ws);
    model.addCheckpoint(await Checkpoint.fromFile('again', await ws.file('src/other/best.bin', 'x'), 2));
    await expect(model.save(ws.path('out'))).rejects.toThrow(/both have a file named best.bin/);
  });

  it('refuses to write metadata that breaks a PMF rule', async () => {
    const model = await trainedModel(ws);
    model.addCheckpoint(await Checkpoint.fromFile('future', await ws.file('src/future.bin', 'x'), 99));
    const failure = await model.save(ws.path('out')).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(PmfMetadataValidationError);
    expect((failure as PmfMetadataValidationError).message).toMatch(/epoch 99, after latest_epoch 2/);
    await expect(stat(ws.path('out'))).rejects.toThrow();
  });
});

describe('Model.load errors', () => {
  it('throws a tree error listing every tree offence', async () => {
    await (await trainedModel(ws)).save(ws.path('out'));
    await rm(ws.path('out', 'config.yaml'));
    await rm(ws.path('out', 'data', 'build_parameters.yaml'));
    const failure = await Model.load(ws.path('out')).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(PmfTreeValidationError);
    expect(failure).toBeInstanceOf(PmfValidationError);
    expect(failure).toBeInstanceOf(PmfModelError);
    expect(failure).toBeInstanceOf(PmfError);
    expect((failure as PmfTreeValidationError).offences).toHaveLength(2);
    expect((failure as Error).message).toContain('config.yaml: configuration file is missing');
    expect((failure as Error).message).toContain('data/build_parameters.yaml: is missing');
  });

  it('throws a metadata error, with offending values when verbose', async () => {
    await (await trainedModel(ws)).save(ws.path('out'));
    const text = await ws.read('out/metadata.yaml');
    await writeFile(ws.path('out', 'metadata.yaml'), text.replace('start_epoch: 0', 'start_epoch: zero'));
    await expect(Model.load(ws.path('out'))).rejects.toBeInstanceOf(PmfMetadataValidationError);
    await expect(Model.load(ws.path('out'), { verbose: true })).rejects.toThrow(/found "zero"/);
  });

  it('checks MD5s by default and skips them when not strict', async () => {
    await (await trainedModel(ws)).save(ws.path('out'));
    await writeFile(ws.path('out', 'data', 'checkpoints', 'best.bin'), 'swapped');
    await expect(Model.load(ws.path('out'))).rejects.toThrow(/does not match its recorded MD5/);
    await expect(Model.load(ws.path('out'), { strict: false })).resolves.toBeInstanceOf(Model);
  });

  it('does not count plain model errors as validation errors', () => {
    expect(new PmfModelError('not-found', 'x')).not.toBeInstanceOf(PmfValidationError);
  });
});

describe('initialisations', () => {
  it('builds a checkpoint from a weight file, which needs a name', async () => {
    const file = await ws.file('src/w.bin', 'pretrained');
    await expect(initialisation(file)).rejects.toMatchObject({ code: 'invalid-initialisation' });
    const found = await initialisation(file, undefined, 'imagenet');
    expect(found).toBeInstanceOf(Checkpoint);
    expect((found as Checkpoint).name).toBe('imagenet');
  });

  it('loads a PMF model, which needs a registered checkpoint reference', async () => {
    await (await trainedModel(ws, 'base')).save(ws.path('base'));
    await expect(initialisation(ws.path('base'))).rejects.toMatchObject({ code: 'invalid-initialisation' });
    await expect(initialisation(ws.path('base'), 'nope')).rejects.toThrow(
      /has no checkpoint "nope" \(it has: 1, "best"\)/,
    );
    const found = await initialisation(ws.path('base'), 1);
    expect(found).toBeInstanceOf(Model);
    expect((found as Model).checkpoint).toBe(1);
  });

  it('refuses paths that are neither', async () => {
    await expect(initialisation(ws.path('missing'))).rejects.toMatchObject({ code: 'not-found' });
    await ws.file('empty-dir/.keep', '');
    await expect(initialisation(ws.path('empty-dir'), 1)).rejects.toThrow(/neither a PMF model nor a weight file/);
  });

  it('round-trips a file initialisation', async () => {
    const model = await trainedModel(ws);
    await model.registerInitialisation(await ws.file('src/init.bin', 'pretrained'), undefined, 'imagenet');
    await model.save(ws.path('out'));
    const loaded = await Model.load(ws.path('out'));
    const loadedInit = loaded.initialisation as Checkpoint;
    expect(loadedInit).toBeInstanceOf(Checkpoint);
    expect([loadedInit.name, loadedInit.hash]).toEqual(['imagenet', (model.initialisation as Checkpoint).hash]);
    expect(await ws.read('out/data/initialisation/init.bin')).toBe('pretrained');
  });

  it('round-trips a PMF initialisation without copying its checkpoint files', async () => {
    await (await trainedModel(ws, 'base')).save(ws.path('base'));
    const model = await trainedModel(ws, 'child');
    await model.registerInitialisation(ws.path('base'), 'best');
    await model.save(ws.path('out'));
    expect(await listing(ws.path('out', 'data', 'initialisation'))).toEqual([
      'config.yaml',
      'data',
      'data/build_parameters.yaml',
      'data/checkpoints',
      'data/initialisation',
      'metadata.yaml',
    ]);
    const loaded = await Model.load(ws.path('out'));
    const base = loaded.initialisation as Model;
    expect(base).toBeInstanceOf(Model);
    expect([base.id, base.checkpoint]).toEqual(['base', 'best']);
    expect(base.checkpointCollection.get('best')?.path).toBeNull();
    expect(base.checkpointCollection.get('best')?.hash).toBe(model.checkpointCollection.get('best')?.hash);
  });

  it('replaces a previous initialisation of another kind when saving again', async () => {
    await (await trainedModel(ws, 'base')).save(ws.path('base'));
    const model = await trainedModel(ws, 'child');
    await model.registerInitialisation(ws.path('base'), 1);
    await model.save(ws.path('out'));
    await model.registerInitialisation(await ws.file('src/init.bin', 'pretrained'), undefined, 'file');
    await model.save(ws.path('out'), { force: true });
    expect(await listing(ws.path('out', 'data', 'initialisation'))).toEqual(['init.bin']);
    expect((await Model.load(ws.path('out'))).initialisation).toBeInstanceOf(Checkpoint);
  });
});
