/**
 * The Marcelle SDK against a real server: a real tfjs model trained for a few epochs with
 * the callback (params, per-epoch logs, checkpoints every N epochs and a final one, on disk
 * and on the server), checkpoints loaded back from the server and from their folders with
 * identical predictions, a run written offline uploaded later with its assets (and not
 * twice), and a model pushed to the registry loaded the Marcelle way by name.
 */
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Checkpoint, Model } from '@larder/pmf';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../server/test/support/test-server.js';
import {
  conformDict,
  folderSaveHandler,
  getModelInfo,
  loadRemoteTfjsModel,
  loadTfjsModelFromFolder,
  ModelRegistry,
  marcelleCallback,
  Remote,
  type RunData,
  type TfjsLayersModel,
  Uploader,
  Writer,
  writeCredentials,
} from '../src/index.js';

function tinyModel(): tf.Sequential {
  const model = tf.sequential({ name: 'tiny' });
  model.add(tf.layers.dense({ units: 4, inputShape: [2], activation: 'relu', name: 'hidden' }));
  model.add(tf.layers.dense({ units: 1, name: 'out' }));
  model.compile({ optimizer: tf.train.sgd(0.05), loss: 'meanSquaredError' });
  return model;
}

const inputs = () =>
  tf.tensor2d([
    [0, 0],
    [0, 1],
    [1, 0],
    [1, 1],
    [0.5, 0.5],
  ]);
const predict = (model: TfjsLayersModel) =>
  Array.from(((model as unknown as tf.LayersModel).predict(inputs()) as tf.Tensor).dataSync());

describe('Marcelle SDK', () => {
  let server: TestServer;
  let dir: string;
  let token: string;
  const get = (path: string) => server.request('GET', path, { token });

  beforeAll(async () => {
    await tf.setBackend('cpu');
    server = await startTestServer({ gcIntervalMs: 0 });
    token = (await server.createUser('ada@example.org')).token;
    dir = await mkdtemp(join(tmpdir(), 'larder-marcelle-sdk-'));
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('records a tfjs training with the callback, and its checkpoints load back identical', async () => {
    const model = tinyModel();
    const callback = marcelleCallback(model as unknown as TfjsLayersModel, {
      name: 'xor',
      backendRoot: server.url,
      token,
      baseLogDir: join(dir, 'logs'),
      checkpointEvery: 2,
      runParams: { lr: 0.05 },
    });
    const xs = inputs();
    const ys = tf.tensor2d([[0], [1], [1], [0], [0.5]]);
    await model.fit(xs, ys, { epochs: 4, batchSize: 5, callbacks: callback as unknown as tf.CustomCallbackArgs });

    const local = JSON.parse(
      await readFile(join(callback.writer.logFolder as string, 'run_data.json'), 'utf8'),
    ) as RunData;
    expect(local).toMatchObject({
      basename: 'xor',
      name: 'xor-1',
      source: 'tfjs',
      status: 'success',
      epoch: 4,
      epochs: 4,
    });
    expect(local.start).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    expect(callback.writer.logFolder).toBe(join(dir, 'logs', local.start.replaceAll(':', '-')));
    expect(local.params).toMatchObject({ lr: 0.05, epochs: 4 });
    expect(local.logs.loss).toHaveLength(4);
    expect(local.model).toMatchObject({ name: 'tiny', param_count: { total: 17, trainable: 17, non_trainable: 0 } });
    expect(local.checkpoints.map((each) => [each.name, each.metadata.epoch, each.service])).toEqual([
      ['xor-1@2', 2, 'tfjs-models'],
      ['xor-1@4', 4, 'tfjs-models'],
      ['xor-1@final', 'final', 'tfjs-models'],
    ]);
    expect(await readdir(callback.writer.logFolder as string)).toEqual(
      expect.arrayContaining(['run_data.json', 'model_checkpoint_epoch=2', 'model_checkpoint_final']),
    );

    // The server holds the same run, seen by Larder with hparams and metrics.
    const remote = await get(`/runs?basename=xor`);
    expect(remote.body.total).toBe(1);
    const run = remote.body.data[0];
    expect(run).toMatchObject({ name: 'xor-1', status: 'success', logs: local.logs, hparams: local.params });
    expect(run.metrics.train.loss.count).toBe(4);

    // The final checkpoint, from the server and from its folder, predicts exactly as the model.
    const expected = predict(model as unknown as TfjsLayersModel);
    const final = local.checkpoints[2]?.id as string;
    const fromServer = await loadRemoteTfjsModel(new Remote({ backendRoot: server.url, token }), final);
    expect(predict(fromServer)).toEqual(expected);
    const fromFolder = await loadTfjsModelFromFolder(local.checkpoints[2]?.metadata.local_path as string);
    expect(predict(fromFolder)).toEqual(expected);

    // Each checkpoint is a version of the registry model `xor-1`, produced by the run.
    const models = await get('/models?name=xor-1');
    expect(models.body.data[0].versionCount).toBe(3);
    const versions = await get(`/model-versions?modelId=${models.body.data[0]._id}`);
    expect(versions.body.data.every((each: { producedBy: string[] }) => each.producedBy.includes(run._id))).toBe(true);
  });

  it('writes a run offline and uploads it later with its checkpoints and assets, once', async () => {
    const model = tinyModel();
    const warnings: string[] = [];
    const writer = new Writer({
      name: 'offline',
      backendRoot: 'http://127.0.0.1:9',
      baseLogDir: join(dir, 'offline-logs'),
      warn: (message) => warnings.push(message),
    });
    await writer.createRun({ model: model as unknown as TfjsLayersModel, runParams: { seed: 7 } });
    await writer.trainBegin(2);
    const picture = join(dir, 'sample.png');
    await writeFile(picture, Buffer.from('png bytes'));
    await writer.saveEpoch(1, { loss: 0.5 }, { saveCheckpoint: true, assets: [picture] });
    await writer.saveEpoch(2, { loss: 0.25 });
    await writer.trainEnd({ saveCheckpoint: true });
    expect(warnings.length).toBeGreaterThan(0);
    const folder = writer.logFolder as string;
    const offline = JSON.parse(await readFile(join(folder, 'run_data.json'), 'utf8')) as RunData;
    expect(offline.checkpoints.every((each) => each.id === undefined)).toBe(true);

    const uploader = new Uploader(new Remote({ backendRoot: server.url, token }));
    expect(await uploader.upload(folder)).toBe('created');
    const uploaded = JSON.parse(await readFile(join(folder, 'run_data.json'), 'utf8')) as RunData;
    expect(uploaded.name).toBe('offline-1');
    expect(uploaded.checkpoints.map((each) => each.name)).toEqual(['offline-1@1', 'offline-1@final']);
    expect(uploaded.checkpoints.every((each) => typeof each.id === 'string')).toBe(true);
    expect(uploaded.assets[0]).toMatchObject({ filename: 'sample.png', url: expect.stringMatching(/sample\.png$/) });
    const asset = await fetch(`${server.url}/assets/${uploaded.assets[0]?.url}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(await asset.text()).toBe('png bytes');
    const run = (await get(`/runs?basename=offline`)).body.data[0];
    expect(run).toMatchObject({ name: 'offline-1', logs: { loss: [0.5, 0.25] }, hparams: { seed: 7 } });

    // Nothing changed: nothing is sent again.
    expect(await uploader.upload(folder)).toBe('up-to-date');
    expect((await get('/tfjs-models?name=offline-1@final')).body.total).toBe(1);
    // Overwrite: the server's run and checkpoints are replaced.
    expect(await uploader.upload(folder, { overwrite: true })).toBe('created');
    expect((await get('/runs?basename=offline')).body.total).toBe(1);
    expect((await get('/tfjs-models?name=offline-1@final')).body.total).toBe(1);
  });

  it('finds the server and token in ~/.larder/credentials.json when a Writer is given neither', async () => {
    const credentials = join(dir, 'credentials.json');
    await writeCredentials(credentials, server.url, { token, email: 'ada@example.org' });
    const saved = {
      url: process.env.LARDER_URL,
      token: process.env.LARDER_TOKEN,
      file: process.env.LARDER_CREDENTIALS,
    };
    delete process.env.LARDER_URL;
    delete process.env.LARDER_TOKEN;
    process.env.LARDER_CREDENTIALS = credentials;
    try {
      const warnings: string[] = [];
      const writer = new Writer({
        name: 'from-credentials',
        baseLogDir: join(dir, 'cred-logs'),
        warn: (message) => warnings.push(message),
      });
      await writer.createRun({ runParams: { seed: 1 } });
      await writer.saveEpoch(1, { loss: 0.5 });
      expect(warnings).toEqual([]);
      expect(writer.remote.backendRoot).toBe(server.url);
      const run = (await get('/runs?basename=from-credentials')).body.data[0];
      expect(run).toMatchObject({ name: 'from-credentials-1', logs: { loss: [0.5] } });

      // remove_run: true once, false when the run is already gone.
      const remote = new Remote();
      expect(await remote.removeRun({ _id: run._id })).toBe(true);
      expect(await remote.removeRun({ _id: run._id })).toBe(false);
    } finally {
      for (const [key, value] of [
        ['LARDER_URL', saved.url],
        ['LARDER_TOKEN', saved.token],
        ['LARDER_CREDENTIALS', saved.file],
      ] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });

  it('loads a model pushed to the registry the Marcelle way, by name', async () => {
    const model = tinyModel();
    const source = join(dir, 'registry-source');
    await model.save(folderSaveHandler(source) as unknown as tf.io.IOHandler);
    const pmf = new Model({
      producerName: 'larder_sdk_tests',
      producerVersionFormat: 'semver',
      producerVersion: '1.0.0',
      name: 'pushed-tiny',
      id: 'pushed-tiny-1',
      configuration: join(source, 'model.json'),
    });
    pmf.registerTrainingStart(0);
    pmf.addCheckpoint(await Checkpoint.fromFile('final', join(source, 'model.json'), 1));
    pmf.registerEpoch(1);
    pmf.registerTrainingEnd(true);
    const tree = join(dir, 'pushed-tiny');
    await pmf.save(tree);
    // tfjs finds the weights beside model.json.
    await copyFile(join(source, 'model.weights.bin'), join(tree, 'data', 'checkpoints', 'model.weights.bin'));
    const registry = await ModelRegistry.connect({ url: server.url, token, credentialsFile: join(dir, 'creds.json') });
    try {
      await registry.pushVersion(tree, { name: 'pushed-tiny' });
    } finally {
      await registry.close();
    }
    const loaded = await loadRemoteTfjsModel(new Remote({ backendRoot: server.url, token }), 'pushed-tiny');
    expect(predict(loaded)).toEqual(predict(model as unknown as TfjsLayersModel));
  });

  it('conforms values for JSON and describes a model', () => {
    expect(conformDict({ a: new Float32Array([0.5, 1]), b: 3n, c: Number.NaN, d: [Number.POSITIVE_INFINITY] })).toEqual(
      {
        a: [0.5, 1],
        b: 3,
        c: null,
        d: [null],
      },
    );
    const info = getModelInfo(tinyModel() as unknown as TfjsLayersModel);
    expect(info.loss).toBe('meanSquaredError');
    expect(info.layers).toEqual([
      { layer_n: 0, name: 'hidden', input_shape: [null, 2], output_shape: [null, 4] },
      { layer_n: 1, name: 'out', input_shape: [null, 4], output_shape: [null, 1] },
    ]);
    expect(info.summary).toMatch(/hidden \(Dense\)/);
  });
});
