/**
 * Picsellia's experiment API against a real Larder server: projects as folders, experiments
 * as runs with named files and typed data logs, creation from a previous experiment, a
 * dataset version and a registry model, training-ready checkouts that never write outside
 * their folder, and other users' experiments out of reach.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../server/test/support/test-server.js';
import { DataStore, Experiment, Experiments, LarderError } from '../src/index.js';

type User = { id: string; token: string; email: string };

const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');
const md5 = (bytes: Buffer | string) => createHash('md5').update(bytes).digest('hex');

/** Awaits `promise` and answers the LarderError it rejects with. */
async function refusal(promise: Promise<unknown>): Promise<LarderError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(LarderError);
  return error as LarderError;
}

/** Every file under `directory`, relative to it. */
async function filesUnder(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(directory, join(entry.parentPath, entry.name)))
    .sort();
}

describe('experiments against a real server', () => {
  let server: TestServer;
  let root: string;
  let ada: User;
  let eve: User;
  let adaStore: DataStore;
  let eveStore: DataStore;

  beforeAll(async () => {
    server = await startTestServer({ gcIntervalMs: 0 });
    root = await mkdtemp(join(tmpdir(), 'larder-experiments-it-'));
    ada = await server.createUser('ada@example.org');
    eve = await server.createUser('eve@example.org');
    adaStore = new DataStore({ url: server.url, token: ada.token });
    eveStore = new DataStore({ url: server.url, token: eve.token });
  });
  afterAll(async () => {
    await adaStore.close();
    await eveStore.close();
    await server.close();
    await rm(root, { recursive: true, force: true });
  });

  async function localFile(name: string, content: Buffer | string): Promise<string> {
    const path = join(root, 'inputs', name);
    await mkdir(join(root, 'inputs'), { recursive: true });
    await writeFile(path, content);
    return path;
  }

  it('creates, lists, renames and deletes experiments with unique, bounded names', async () => {
    const experiments = new Experiments(adaStore, 'lifecycle');
    expect(await experiments.folder()).toBe('/ada@example.org/lifecycle');
    expect(await experiments.list()).toEqual([]);

    const first = await experiments.create({ name: 'exp-1', description: 'baseline' });
    await experiments.create({ name: 'exp-2' });
    expect(first.record).toMatchObject({
      name: 'exp-1',
      description: 'baseline',
      folder: '/ada@example.org/lifecycle',
    });
    expect((await experiments.list()).map((each) => each.name)).toEqual(['exp-1', 'exp-2']);

    const duplicate = await refusal(experiments.create({ name: 'exp-1' }));
    expect(duplicate).toMatchObject({ name: 'Conflict', code: 409 });
    expect((await refusal(experiments.create({ name: 'x'.repeat(61) }))).message).toMatch(/at most 60/);
    expect((await refusal(experiments.create({ name: 'ok', description: 'd'.repeat(1001) }))).message).toMatch(
      /at most 1000/,
    );
    expect((await refusal(experiments.create({ name: '../escape' }))).name).toBe('BadRequest');
    expect((await refusal(experiments.create({ name: '..' }))).name).toBe('BadRequest');
    expect(await experiments.list()).toHaveLength(2);

    const renamed = await experiments.update('exp-1', { name: 'exp-1b', status: 'Complete' });
    expect(renamed).toMatchObject({ name: 'exp-1b', status: 'Complete', description: 'baseline' });
    expect((await experiments.get('exp-1b')).id).toBe(first.id);
    expect((await refusal(experiments.get('exp-1'))).name).toBe('NotFound');
    expect((await refusal(experiments.update('exp-1b', { name: 'exp-2' }))).name).toBe('Conflict');
    expect((await refusal(first.update({ description: 'd'.repeat(1001) }))).name).toBe('BadRequest');

    await experiments.delete('exp-2');
    expect((await experiments.list()).map((each) => each.name)).toEqual(['exp-1b']);
    await experiments.create({ name: 'exp-3' });
    expect(await experiments.deleteAll()).toBe(2);
    expect(await experiments.list()).toEqual([]);
    expect((await refusal(first.refresh())).name).toBe('NotFound');
  });

  it('stores files (a directory zipped), downloads, renames and deletes them', async () => {
    const experiment = await new Experiments(adaStore, 'files').create({ name: 'with-files' });
    const config = await localFile('pipeline.config', 'num_classes: 2\n');
    const stored = await experiment.store('config', config);
    expect(stored).toMatchObject({ name: 'config', filename: 'pipeline.config', sha256: sha256('num_classes: 2\n') });

    const model = join(root, 'saved_model');
    await mkdir(join(model, 'variables'), { recursive: true });
    await writeFile(join(model, 'saved_model.pb'), randomBytes(4000));
    await writeFile(join(model, 'variables', 'variables.index'), 'index');
    expect((await refusal(experiment.store('model-latest', model))).message).toMatch(/zip: true/);
    const zipped = await experiment.store('model-latest', model, { zip: true });
    expect(zipped.filename).toBe('saved_model.zip');

    expect((await experiment.listFiles()).map((file) => file.name)).toEqual(['config', 'model-latest']);
    expect(await experiment.getFile('config')).toEqual(stored);

    const into = join(root, 'downloads');
    await mkdir(into, { recursive: true });
    const fetched = await experiment.getFile('model-latest', into);
    expect(fetched.path).toBe(join(into, 'saved_model.zip'));
    const zip = await readFile(join(into, 'saved_model.zip'));
    expect(zip.subarray(0, 2).toString()).toBe('PK');
    expect(zip.includes('saved_model.pb')).toBe(true);
    expect(zip.includes('variables/variables.index')).toBe(true);
    const copy = await experiment.getFile('config', join(root, 'downloads', 'nested', 'my.config'));
    expect(await readFile(copy.path as string, 'utf8')).toBe('num_classes: 2\n');

    const renamed = await experiment.updateFile('config', { name: 'config-v2', filename: 'v2.config' });
    expect(renamed).toMatchObject({ name: 'config-v2', filename: 'v2.config', sha256: stored.sha256 });
    expect((await experiment.listFiles()).map((file) => file.name)).toEqual(['config-v2', 'model-latest']);
    expect((await refusal(experiment.updateFile('config-v2', { name: 'model-latest' }))).name).toBe('Conflict');

    await experiment.deleteFile('config-v2');
    expect((await experiment.listFiles()).map((file) => file.name)).toEqual(['model-latest']);
    expect((await refusal(experiment.getFile('config-v2'))).name).toBe('NotFound');
    expect((await refusal(experiment.deleteFile('config-v2'))).name).toBe('NotFound');
    for (const hostile of ['../escape', 'a.b', '/etc/passwd', '', '$where', '__proto__.x']) {
      expect((await refusal(experiment.store(hostile, config))).name).toBe('BadRequest');
    }
    await experiment.deleteAllFiles();
    expect(await experiment.listFiles()).toEqual([]);
  });

  it('logs typed data, appends lines, and surfaces the server refusing bad shapes', async () => {
    const experiment = await new Experiments(adaStore, 'logs').create({ name: 'logged' });
    await experiment.log('loss', 0.9, 'line');
    await experiment.log('loss', [0.7, 0.5], 'line');
    await Promise.all([experiment.log('loss', 0.4, 'line'), experiment.log('loss', 0.3, 'line')]);
    expect(await experiment.getData('loss')).toEqual({ steps: [0, 1, 2, 3, 4], values: [0.9, 0.7, 0.5, 0.4, 0.3] });
    await experiment.log('loss', { steps: [10, 20], values: [0.2, 0.1] }, 'line');
    expect(await experiment.getData('loss')).toEqual({
      steps: [0, 1, 2, 3, 4, 10, 20],
      values: [0.9, 0.7, 0.5, 0.4, 0.3, 0.2, 0.1],
    });
    // Another object (another process) sees and continues the same curve.
    const elsewhere = await new Experiments(adaStore, 'logs').get('logged');
    await elsewhere.log('loss', 0.05, 'line');
    expect(((await experiment.getData('loss')) as { steps: number[] }).steps.at(-1)).toBe(21);

    await experiment.log('accuracy', 0.93, 'value');
    await experiment.log('accuracy', 0.95, 'value');
    await experiment.log('labelmap', { '0': 'cat', '1': 'dog' }, 'labelmap');
    await experiment.log('parameters', { lr: 0.01, epochs: 30, optimizer: 'adam' }, 'table');
    await experiment.log(
      'confusion',
      {
        categories: ['cat', 'dog'],
        values: [
          [5, 1],
          [2, 7],
        ],
      },
      'heatmap',
    );
    await experiment.log('train-split', { x: ['train', 'test'], y: [80, 20] }, 'bar');
    await experiment.log('sample', await localFile('sample.png', randomBytes(300)), 'image');
    await experiment.log(
      'eval',
      { predictions: [{ label: 'cat', box: [0, 0, 5, 5], confidence: 0.8 }], groundTruth: [{ label: 'cat' }] },
      'evaluation',
    );
    const listed = await experiment.listData();
    expect(listed.map((entry) => entry.name)).toEqual([
      'accuracy',
      'confusion',
      'eval',
      'labelmap',
      'loss',
      'parameters',
      'sample',
      'train-split',
    ]);
    expect(listed.find((entry) => entry.name === 'accuracy')).toEqual({ name: 'accuracy', type: 'value', data: 0.95 });
    expect(await experiment.getData('sample')).toMatchObject({ filename: 'sample.png', size: 300 });

    const bad = async (promise: Promise<unknown>, pattern: RegExp) => {
      const error = await refusal(promise);
      expect(error).toMatchObject({ name: 'BadRequest', code: 400 });
      expect(error.message).toMatch(pattern);
    };
    await bad(experiment.log('cm', { categories: ['a', 'b'], values: [[1]] }, 'heatmap'), /heatmap/);
    await bad(experiment.log('bars', { x: ['a'], y: [1, 2] }, 'bar'), /bar/);
    await bad(experiment.log('labels', { cat: 0 } as never, 'labelmap'), /labelmap/);
    await bad(experiment.log('chart', 1 as never, 'chart' as never), /type must be one of/);
    await bad(experiment.log('picture', { sha256: 'f'.repeat(64), size: 1 }, 'image'), /not uploaded by you/);
    await bad(experiment.log('loss', { steps: ['one' as never], values: [1] }, 'line'), /line/);
    await bad(experiment.log('loss', { steps: [1], values: [1, 2] }, 'line'), /one step per value/);
    expect((await refusal(experiment.log('accuracy', 1, 'line'))).name).toBe('Conflict');
    expect((await refusal(experiment.log('a.b', 1, 'value'))).name).toBe('BadRequest');
    expect((await experiment.getData('loss')) as { values: number[] }).toMatchObject({ values: expect.any(Array) });

    const updated = await experiment.updateData('parameters', { name: 'hyperparameters', data: { lr: 0.02 } });
    expect(updated).toEqual({ name: 'hyperparameters', type: 'table', data: { lr: 0.02 } });
    expect((await refusal(experiment.getData('parameters'))).name).toBe('NotFound');
    await bad(experiment.updateData('hyperparameters', { data: 'flat' as never }), /table/);
    expect(await experiment.getData('hyperparameters')).toEqual({ lr: 0.02 });
    expect((await refusal(experiment.updateData('hyperparameters', { name: 'loss' }))).name).toBe('Conflict');

    await experiment.deleteData('hyperparameters');
    expect((await refusal(experiment.deleteData('hyperparameters'))).name).toBe('NotFound');
    expect((await experiment.listData()).map((entry) => entry.name)).not.toContain('hyperparameters');
    await experiment.deleteAllData();
    expect(await experiment.listData()).toEqual([]);
  });

  it('creates from a previous experiment, a dataset version and a registry model', async () => {
    const experiments = new Experiments(adaStore, 'iterations');
    const previous = await experiments.create({ name: 'first' });
    await previous.store('config', await localFile('first.config', 'lr: 0.1\n'));
    await previous.log('loss', [1, 0.5], 'line');

    const dataset = await server.request('POST', '/datasets', { token: ada.token, body: { name: 'digits' } });
    const version = await server.request('POST', '/dataset-versions', {
      token: ada.token,
      body: { datasetId: dataset.body._id, name: 'v1' },
    });
    expect(version.status).toBe(201);

    const second = await experiments.create({ name: 'second', previous: 'first', dataset: 'digits/v1' });
    expect((await second.listFiles()).map((file) => file.name)).toEqual(['config']);
    expect(await second.getData('loss')).toEqual({ steps: [0, 1], values: [1, 0.5] });
    expect(second.record.associations?.inputs).toEqual([
      { kind: 'run', id: previous.id },
      { kind: 'dataset-version', id: version.body._id },
    ]);
    // The copy is independent of the original.
    await second.log('loss', 0.25, 'line');
    expect(await previous.getData('loss')).toEqual({ steps: [0, 1], values: [1, 0.5] });

    const byId = await experiments.create({ name: 'third', previous: second, dataset: version.body._id });
    expect(byId.record.associations?.inputs).toContainEqual({ kind: 'dataset-version', id: version.body._id });
    expect((await refusal(experiments.create({ name: 'fourth', dataset: 'digits/v9' }))).message).toMatch(/v9/);
    expect((await refusal(experiments.create({ name: 'fourth', previous: 'nobody' }))).name).toBe('NotFound');

    // Eve publishes a model version; Ada never uploaded its bytes, yet clones its files.
    const model = await server.request('POST', '/models', {
      token: eve.token,
      body: { name: 'resnet', private: false },
    });
    const weights = randomBytes(5000);
    const contents: Record<string, Buffer | string> = {
      'metadata.yaml': "format: {version: '1.0.0'}\nmodel: {id: m-1}\n",
      'config.yaml': 'learning_rate: 0.1\n',
      'data/build_parameters.yaml': 'layers: 3\n',
      'data/checkpoints/1.bin': weights,
    };
    const files = [];
    for (const [path, content] of Object.entries(contents)) {
      files.push({ path, ...(await eveStore.blobs.upload(Buffer.from(content))) });
    }
    const pushed = await server.request('POST', '/model-versions', {
      token: eve.token,
      body: {
        modelId: model.body._id,
        files,
        pmf: {
          formatVersion: '1.0.0',
          producer: { name: 'larder_tests', versionFormat: 'py_pa', version: '1.0' },
          name: 'resnet',
          id: 'pmf-id',
          configuration: { path: 'config.yaml', md5: md5(contents['config.yaml'] as string) },
          buildParameters: {},
          initialisation: null,
          training: {
            status: 'finished',
            startEpoch: 0,
            startTime: 1,
            latestEpoch: 1,
            latestTime: 2,
            endEpoch: 1,
            endTime: 2,
            latest: 1,
          },
          checkpoints: [{ reference: 1, epoch: 1, path: 'data/checkpoints/1.bin', md5: md5(weights) }],
        },
      },
    });
    expect(pushed.status).toBe(201);
    expect(await adaStore.blobs.has(sha256(weights))).toBe(false);

    const cloned = await experiments.create({ name: 'from-model', source: pushed.body._id });
    const names = (await cloned.listFiles()).map((file) => [file.name, file.filename]);
    expect(names).toEqual([
      ['config-yaml', 'config.yaml'],
      ['data-build_parameters-yaml', 'build_parameters.yaml'],
      ['data-checkpoints-1-bin', '1.bin'],
      ['metadata-yaml', 'metadata.yaml'],
    ]);
    expect(cloned.record.associations?.inputs).toEqual([{ kind: 'model-version', id: pushed.body._id }]);
    const got = await cloned.getFile('data-checkpoints-1-bin', join(root, 'cloned.bin'));
    expect((await readFile(got.path as string)).equals(weights)).toBe(true);

    // By name, as the rest of the registry names models: its latest, a version, an alias.
    for (const [name, source] of [
      ['by-name', 'resnet'],
      ['by-version', 'resnet:1'],
      ['by-alias', 'resnet:latest'],
    ] as const) {
      const byName = await experiments.create({ name, source });
      expect(byName.record.associations?.inputs).toEqual([{ kind: 'model-version', id: pushed.body._id }]);
      expect(Object.keys(byName.record.files ?? {})).toHaveLength(4);
    }
    const unknown = await refusal(experiments.create({ name: 'by-typo', source: 'resnett' }));
    expect(unknown).toMatchObject({ name: 'NotFound' });
    expect(unknown.message).toMatch(/No model version resnett that you may read/);
    await server.request('PATCH', `/models/${model.body._id}`, {
      token: eve.token,
      body: { 'files.readme': { ...files[1]!, filename: 'README.md' } },
    });
    const namedFiles = await experiments.create({ name: 'model-files', source: { model: 'resnet' } });
    expect((await namedFiles.getFile('readme')).filename).toBe('README.md');

    const listed = await experiments.create({
      name: 'from-files',
      source: { files: { config: { ...files[1]!, filename: 'c.yaml' } } },
    });
    expect((await listed.getFile('config')).filename).toBe('c.yaml');
    const missing = await refusal(
      experiments.create({ name: 'from-nothing', source: { modelVersion: 'no-such-version' } }),
    );
    expect(missing).toMatchObject({ name: 'NotFound' });
    expect(missing.message).toMatch(/model version no-such-version/);
    expect((await experiments.list()).map((each) => each.name)).not.toContain('from-nothing');
  });

  it('checks out a training-ready tree with files and data', async () => {
    const experiments = new Experiments(adaStore, 'checkout');
    const experiment = await experiments.create({ name: 'ready' });
    await experiment.store('config', await localFile('pipeline.config', 'steps: 10\n'));
    await experiment.store('checkpoint-index-latest', await localFile('ckpt-0.index', 'index'));
    await experiment.store('model-latest', await localFile('saved_model.zip', 'zip'));
    await experiment.store('notes', await localFile('notes.txt', 'hello'));
    await experiment.log('loss', [0.5, 0.25], 'line');

    const plain = await experiments.checkout('ready', { directory: join(root, 'plain'), withFiles: true });
    expect(plain.root).toBe(join(root, 'plain', 'ready'));
    expect(await filesUnder(plain.root)).toEqual([
      'experiment.json',
      'files/checkpoint-index-latest/ckpt-0.index',
      'files/config/pipeline.config',
      'files/model-latest/saved_model.zip',
      'files/notes/notes.txt',
    ]);

    const tree = await experiment.checkout({
      directory: join(root, 'tree'),
      tree: true,
      withFiles: true,
      withData: true,
    });
    expect(await filesUnder(tree.root)).toEqual([
      'checkpoints/ckpt-0.index',
      'config/pipeline.config',
      'data/loss.json',
      'experiment.json',
      'exported_model/saved_model.zip',
      'files/notes/notes.txt',
    ]);
    for (const folder of ['records', 'results']) expect((await stat(join(tree.root, folder))).isDirectory()).toBe(true);
    expect(await readFile(tree.files.config as string, 'utf8')).toBe('steps: 10\n');
    expect(JSON.parse(await readFile(tree.data.loss as string, 'utf8'))).toEqual({
      name: 'loss',
      type: 'line',
      data: { steps: [0, 1], values: [0.5, 0.25] },
    });
    expect(JSON.parse(await readFile(join(tree.root, 'experiment.json'), 'utf8'))).toMatchObject({ name: 'ready' });
  });

  it('keeps a checkout inside its folder whatever names and filenames the record holds', async () => {
    const experiments = new Experiments(adaStore, 'hostile');
    const folder = await experiments.folder();
    const blob = await adaStore.blobs.upload(Buffer.from('payload'));
    const outside = join(tmpdir(), `larder-escape-${randomBytes(4).toString('hex')}.txt`);
    // Written straight through the API, as another client could: names the SDK would refuse.
    const made = await server.request('POST', '/runs', {
      token: ada.token,
      body: {
        name: '..',
        folder,
        files: {
          up: { ...blob, filename: '../../../escape.txt' },
          absolute: { ...blob, filename: outside },
          '..': { ...blob, filename: '..' },
        },
        dataLogs: { '../evil': { type: 'value', data: 1 } },
      },
    });
    expect(made.status).toBe(201);

    const base = join(root, 'hostile-checkout');
    const result = await experiments.checkout('..', { directory: base, tree: true, withFiles: true, withData: true });
    expect(relative(base, result.root)).toBe('%2E%2E');
    expect(await filesUnder(base)).toEqual([
      '%2E%2E/data/..%2Fevil.json',
      '%2E%2E/experiment.json',
      '%2E%2E/files/%2E%2E/%2E%2E',
      `%2E%2E/files/absolute/${outside.split('/').pop()}`,
      '%2E%2E/files/up/escape.txt',
    ]);
    await expect(stat(outside)).rejects.toThrow();
    expect(await readFile(result.files.up as string, 'utf8')).toBe('payload');
  });

  it("keeps other users' projects and experiments out of reach", async () => {
    const mine = await new Experiments(adaStore, 'private').create({ name: 'secret' });
    await mine.store('config', await localFile('secret.config', 'secret'));

    const prying = new Experiments(eveStore, '/ada@example.org/private');
    expect(await refusal(prying.list())).toMatchObject({ name: 'NotFound', code: 404 });
    expect((await refusal(prying.get('secret'))).name).toBe('NotFound');
    expect((await refusal(prying.create({ name: 'planted' }))).name).toBe('NotFound');
    const eves = new Experiments(eveStore, 'own');
    expect((await refusal(eves.open(mine.id))).name).toBe('NotFound');
    expect((await refusal(eves.create({ name: 'copy', previous: 'secret' }))).name).toBe('NotFound');

    // Even holding a handle on the record, every read and write answers 404.
    const stolen = new Experiment(eveStore, mine.record);
    expect((await refusal(stolen.listFiles())).name).toBe('NotFound');
    expect((await refusal(stolen.log('loss', 1, 'value'))).name).toBe('NotFound');
    expect((await refusal(stolen.delete())).name).toBe('NotFound');
    const direct = await fetch(`${server.url}/runs/${mine.id}/files/config`, {
      headers: { authorization: `Bearer ${eve.token}` },
    });
    expect(direct.status).toBe(404);
    expect(await mine.listFiles()).toHaveLength(1);
    expect(await new Experiments(eveStore, 'own').deleteAll()).toBe(0);
    expect((await new Experiments(adaStore, 'private').list()).map((each) => each.name)).toEqual(['secret']);
  });
});
