import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { trainedModel, type Workspace, workspace } from '../test-support/fixtures.js';
import { formatOffence } from './offence.js';
import { validateModel } from './validate-model.js';

let ws: Workspace;
let root: string;

beforeEach(async () => {
  ws = await workspace();
  root = ws.path('model');
  await (await trainedModel(ws)).save(root);
});
afterEach(() => ws.remove());

const lines = async (strict?: boolean) =>
  (await validateModel(root, strict === undefined ? {} : { strict })).map((offence) => formatOffence(offence));

async function editMetadata(from: string | RegExp, to: string): Promise<void> {
  const text = await readFile(join(root, 'metadata.yaml'), 'utf8');
  const edited = text.replace(from, to);
  expect(edited).not.toBe(text);
  await writeFile(join(root, 'metadata.yaml'), edited);
}

describe('validateModel', () => {
  it('accepts a tree this library saved, strictly', async () => {
    expect(await lines(true)).toEqual([]);
  });

  it('reports a missing root and a file root', async () => {
    expect((await validateModel(ws.path('nowhere'))).map((o) => formatOffence(o))).toEqual(['.: does not exist']);
    expect((await validateModel(ws.path('src', 'config.yaml'))).map((o) => formatOffence(o))).toEqual([
      '.: is not a directory',
    ]);
  });

  it('reports a directory without metadata.yaml', async () => {
    await rm(ws.path('model', 'metadata.yaml'));
    expect(await lines()).toContain('metadata.yaml: is missing: this is not a PMF model');
  });

  it('reports each missing part of the data directory', async () => {
    await rm(ws.path('model', 'data', 'build_parameters.yaml'));
    await rm(ws.path('model', 'data', 'initialisation'), { recursive: true });
    await rm(ws.path('model', 'data', 'checkpoints'), { recursive: true });
    expect(await lines()).toEqual([
      'data/build_parameters.yaml: is missing',
      'data/initialisation: is missing (it is empty for a model trained from scratch)',
      'data/checkpoints: is missing',
      'data/checkpoints/epoch-1.bin: checkpoint 1 is missing',
      'data/checkpoints/best.bin: checkpoint "best" is missing',
    ]);
  });

  it('reports a missing data directory', async () => {
    await rm(ws.path('model', 'data'), { recursive: true });
    expect(await lines()).toContain('data: is missing: a PMF model keeps its files in data/');
  });

  it('reports directories inside data/checkpoints', async () => {
    await mkdir(ws.path('model', 'data', 'checkpoints', 'nested'));
    expect(await lines()).toEqual(['data/checkpoints/nested: must be a file (data/checkpoints holds files only)']);
  });

  it('reports missing configuration and checkpoint files', async () => {
    await rm(ws.path('model', 'config.yaml'));
    await rm(ws.path('model', 'data', 'checkpoints', 'best.bin'));
    expect(await lines()).toEqual([
      'config.yaml: configuration file is missing',
      'data/checkpoints/best.bin: checkpoint "best" is missing',
    ]);
  });

  it('checks MD5s by default (strict), skips them with strict: false, and reports each mismatch', async () => {
    await writeFile(ws.path('model', 'config.yaml'), 'learning_rate: 0.2\n');
    await writeFile(ws.path('model', 'data', 'checkpoints', 'epoch-1.bin'), 'tampered');
    expect(await lines(false)).toEqual([]);
    expect(await lines()).toEqual([
      'config.yaml: configuration file does not match its recorded MD5',
      'data/checkpoints/epoch-1.bin: checkpoint 1 does not match its recorded MD5',
    ]);
  });

  it('reports malformed YAML with its line instead of throwing', async () => {
    await writeFile(ws.path('model', 'metadata.yaml'), 'format: [unclosed\nmodel: {}\n');
    const offences = await lines();
    expect(offences.length).toBeGreaterThan(0);
    expect(offences.every((line) => line.startsWith('metadata.yaml: is not valid YAML: line'))).toBe(true);
  });

  it('refuses YAML that PyYAML safe_load would refuse (python tags)', async () => {
    await editMetadata('name: trained', 'name: !!python/name:os.system');
    expect((await lines()).join('\n')).toMatch(/Unresolved tag/);
  });

  it('refuses paths that escape the root or are absolute, without touching them', async () => {
    await ws.file('secret.bin', 'outside the model');
    await editMetadata('path: data/checkpoints/best.bin', 'path: ../secret.bin');
    await editMetadata('path: config.yaml', 'path: /etc/hostname');
    expect(await lines(true)).toEqual([
      'metadata.yaml: model.configuration.path: must be relative to the model root, not absolute',
      'metadata.yaml: model.training.checkpoints.best.path: must stay inside the model root (no ".." segments)',
    ]);
  });

  it('refuses checkpoint paths outside data/checkpoints and a configuration below the root', async () => {
    await ws.file('model/data/elsewhere.bin', 'weights one');
    await editMetadata('path: data/checkpoints/epoch-1.bin', 'path: data/elsewhere.bin');
    await editMetadata('path: config.yaml', 'path: data/config.yaml');
    expect(await lines()).toEqual([
      'metadata.yaml: model.configuration.path: must name a file at the model root',
      'metadata.yaml: model.training.checkpoints.1.path: must name a file directly in data/checkpoints',
    ]);
  });

  it('reports a dangling symbolic link as a missing checkpoint', async () => {
    await rm(ws.path('model', 'data', 'checkpoints', 'best.bin'));
    await symlink(ws.path('gone.bin'), ws.path('model', 'data', 'checkpoints', 'best.bin'));
    expect(await lines()).toEqual([
      'data/checkpoints/best.bin: must be a file (data/checkpoints holds files only)',
      'data/checkpoints/best.bin: checkpoint "best" is missing',
    ]);
  });

  it('reports tree and metadata offences together', async () => {
    await rm(ws.path('model', 'data', 'build_parameters.yaml'));
    await editMetadata('status: finished', 'status: paused');
    expect(await lines()).toEqual([
      'metadata.yaml: model.training.status: must be one of pending, running, finished, failed',
      'data/build_parameters.yaml: is missing',
    ]);
  });

  it('reports malformed build parameters', async () => {
    await writeFile(ws.path('model', 'data', 'build_parameters.yaml'), '- just\n- a list\n');
    expect(await lines()).toEqual(['data/build_parameters.yaml: must hold a mapping of build parameters']);
  });
});

describe('validateModel on initialisations', () => {
  it('reports a file initialisation whose file is missing or altered', async () => {
    const model = await trainedModel(ws, 'with-file');
    await model.registerInitialisation(await ws.file('src/init.bin', 'init weights'), undefined, 'imagenet');
    root = ws.path('with-file');
    await model.save(root);
    expect(await lines(true)).toEqual([]);
    await writeFile(ws.path('with-file', 'data', 'initialisation', 'init.bin'), 'altered');
    expect(await lines(true)).toEqual([
      'data/initialisation/init.bin: initialisation file does not match its recorded MD5',
    ]);
    await rm(ws.path('with-file', 'data', 'initialisation', 'init.bin'));
    expect(await lines()).toEqual(['data/initialisation/init.bin: initialisation file is missing']);
  });

  it('reports a PMF initialisation that is missing, invalid or lacks the checkpoint', async () => {
    const model = await trainedModel(ws, 'child');
    await model.registerInitialisation(root, 'best');
    const child = ws.path('child');
    await model.save(child);
    root = child;
    expect(await lines(true)).toEqual([]);

    await editMetadata('checkpoint: best', 'checkpoint: worst');
    expect(await lines()).toEqual([
      'metadata.yaml: model.initialisation.pmf.checkpoint: "worst" is not a checkpoint of the initialisation model',
    ]);
    await editMetadata('checkpoint: worst', 'checkpoint: best');

    await rm(ws.path('child', 'data', 'initialisation', 'data', 'build_parameters.yaml'));
    expect(await lines()).toEqual(['data/initialisation/data/build_parameters.yaml: is missing']);

    await rm(ws.path('child', 'data', 'initialisation', 'metadata.yaml'));
    expect(await lines()).toEqual([
      'data/initialisation/data: must be a file (data/initialisation holds files only)',
      'metadata.yaml: model.initialisation: names a PMF model but data/initialisation has no metadata.yaml',
    ]);
  });
});
