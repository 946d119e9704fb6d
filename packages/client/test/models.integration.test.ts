/**
 * The SDK's model registry against a real server: PMF directories pushed as versions
 * (only missing files sent), pulled back as trees that validate strictly, aliases, named
 * files, sharing, and refusals that leave nothing behind.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Checkpoint, Model, validateModel } from '@larder/pmf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../server/test/support/test-server.js';
import { DataStore, LarderError, type ModelRecord, ModelRegistry, parseModelReference } from '../src/index.js';

describe('SDK model registry', () => {
  let server: TestServer;
  let dir: string;
  let ada: ModelRegistry;
  let bob: ModelRegistry;
  let adaToken: string;
  let bobToken: string;

  beforeAll(async () => {
    server = await startTestServer({ gcIntervalMs: 0 });
    dir = await mkdtemp(join(tmpdir(), 'larder-sdk-models-'));
    const credentialsFile = join(dir, 'credentials.json');
    adaToken = (await server.createUser('ada@example.org')).token;
    bobToken = (await server.createUser('bob@example.org')).token;
    ada = await ModelRegistry.connect({ url: server.url, token: adaToken, credentialsFile });
    bob = await ModelRegistry.connect({ url: server.url, token: bobToken, credentialsFile });
  });
  afterAll(async () => {
    await ada.close();
    await bob.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A finished PMF model with two checkpoints, saved under `dir/<name>`. */
  async function pmfModel(name: string, weights = randomBytes(4096)): Promise<string> {
    const source = join(dir, `${name}-source`);
    await mkdir(source, { recursive: true });
    await writeFile(join(source, 'train.yaml'), 'learning_rate: 0.01\n');
    await writeFile(join(source, 'epoch-1.bin'), weights);
    await writeFile(join(source, 'epoch-2.bin'), randomBytes(1024));
    const model = new Model({
      producerName: 'larder_sdk_tests',
      producerVersionFormat: 'py_pa',
      producerVersion: '2.1.0',
      name,
      id: `${name}-id`,
      configuration: join(source, 'train.yaml'),
      buildParameters: { layers: 18, activation: 'relu' },
    });
    model.registerTrainingStart(0);
    model.addCheckpoint(await Checkpoint.fromFile(1, join(source, 'epoch-1.bin'), 1));
    model.registerEpoch(1);
    model.addCheckpoint(await Checkpoint.fromFile('best', join(source, 'epoch-2.bin'), 2));
    model.registerEpoch(2);
    model.registerTrainingEnd(true);
    const target = join(dir, name);
    await model.save(target);
    return target;
  }

  it('pushes a PMF directory, sends only what the server lacks, and pulls back a strictly valid tree', async () => {
    const weights = randomBytes(8192);
    const tree = await pmfModel('resnet', weights);
    const first = await ada.pushVersion(tree, { alias: 'candidate', producedBy: ['run-7'] });
    expect(first.version).toMatchObject({
      version: 1,
      modelName: 'resnet',
      producedBy: ['run-7'],
      pmf: {
        producer: { name: 'larder_sdk_tests', versionFormat: 'py_pa', version: '2.1.0' },
        id: 'resnet-id',
        buildParameters: { layers: 18, activation: 'relu' },
        training: { status: 'finished', startEpoch: 0, endEpoch: 2, latest: 'best' },
        checkpoints: [
          { reference: 1, epoch: 1, path: 'data/checkpoints/epoch-1.bin' },
          { reference: 'best', epoch: 2, path: 'data/checkpoints/epoch-2.bin' },
        ],
      },
    });
    expect(first.sent.sort()).toEqual(first.version.files.map((file) => file.path).sort());
    expect(first.skipped).toEqual([]);
    expect(first.model.aliases).toEqual({ latest: 1, candidate: 1 });

    // Same bytes again: nothing is sent, a new version still records them.
    const again = await ada.pushVersion(tree);
    expect(again.sent).toEqual([]);
    expect(again.skipped).toHaveLength(first.version.files.length);
    expect(again.version.version).toBe(2);

    const target = join(dir, 'pulled', 'resnet');
    const pulled = await ada.pullVersion('resnet', 'candidate', target);
    expect(pulled.version.version).toBe(1);
    expect(await validateModel(target, { strict: true })).toEqual([]);
    const loaded = await Model.load(target);
    expect(loaded.id).toBe('resnet-id');
    expect(loaded.buildParameters).toEqual({ layers: 18, activation: 'relu' });
    expect((await readFile(join(target, 'data', 'checkpoints', 'epoch-1.bin'))).equals(weights)).toBe(true);

    const refused = ada.pullVersion('resnet', 'latest', target);
    await expect(refused).rejects.toThrow(/not empty/);
    expect(parseModelReference('resnet:v2')).toEqual({ name: 'resnet', version: 2 });
  });

  it('lists, updates and reads versions by number and alias; moves aliases', async () => {
    await ada.create({ name: 'detector', type: 'detection', framework: 'pytorch', labels: { '1': 'cat' } });
    const tree = await pmfModel('detector');
    await ada.pushVersion(tree);
    await ada.pushVersion(tree);
    const updated = await ada.update('detector', { description: 'finds cats', tags: ['cats'] });
    expect(updated).toMatchObject({ description: 'finds cats', tags: ['cats'], type: 'detection' });
    expect((await ada.list({ type: 'detection' })).map((model) => model.name)).toEqual(['detector']);

    expect((await ada.listVersions('detector')).map((version) => version.version)).toEqual([1, 2]);
    expect((await ada.getVersion('detector')).version).toBe(2);
    const moved = await ada.setAlias('detector', 'production', 'v1');
    expect(moved.aliases).toEqual({ latest: 2, production: 1 });
    expect((await ada.getVersion('detector', 'production')).version).toBe(1);
    const chained = await ada.setAlias('detector', 'stable', 'production');
    expect(chained.aliases.stable).toBe(1);
    await expect(ada.getVersion('detector', 'nightly')).rejects.toThrow(/no alias "nightly"/);
    await expect(ada.setAlias('detector', 'staging', 9)).rejects.toThrow(/no version 9/);
    const dropped = await ada.setAlias('detector', 'stable', null);
    expect(dropped.aliases).toEqual({ latest: 2, production: 1 });
  });

  it('stores named files and shares a public model for reading only', async () => {
    await ada.create({ name: 'shared', private: false });
    const config = join(dir, 'pipeline.config');
    await writeFile(config, 'num_classes: 3\n');
    const stored = await ada.storeFile('shared', 'config', config);
    expect(stored.files.config).toMatchObject({ filename: 'pipeline.config', size: 15 });
    await ada.pushVersion(await pmfModel('shared'));

    const copy = join(dir, 'bob-config');
    await bob.downloadFile('shared', 'config', copy);
    expect(await readFile(copy, 'utf8')).toBe('num_classes: 3\n');
    const pulled = await bob.pullVersion('shared', 'latest', join(dir, 'bob-shared'));
    expect(await validateModel(pulled.path, { strict: true })).toEqual([]);
    await expect(bob.update('shared', { description: 'hijacked' })).rejects.toMatchObject({ name: 'Forbidden' });

    // Bob pushing under the same name gets a model of his own, not Ada's.
    const own = await bob.pushVersion(await pmfModel('shared-by-bob'), { name: 'shared' });
    expect(own.model.userId).not.toBe(stored.userId);
    expect((await ada.get({ name: 'shared' }))._id).toBe(stored._id);
    expect((await bob.get({ name: 'shared' }))._id).toBe(own.model._id);
  });

  it("stores a folder zipped as a named file (Picsellia's store with zip)", async () => {
    await ada.create({ name: 'zipped', type: 'classification' });
    const folder = join(dir, 'checkpoint-folder');
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'ckpt.index'), 'index');
    await writeFile(join(folder, 'ckpt.data'), randomBytes(1000));
    const stored = await ada.store('zipped', 'checkpoint-data-latest', folder, { zip: true });
    expect(stored.files['checkpoint-data-latest']).toMatchObject({ filename: 'checkpoint-folder.zip' });
    const copy = join(dir, 'zipped-copy.zip');
    await ada.downloadFile('zipped', 'checkpoint-data-latest', copy);
    const bytes = await readFile(copy);
    expect(bytes.subarray(0, 4).toString('hex')).toBe('504b0304');
    expect(bytes.includes(Buffer.from('ckpt.index'))).toBe(true);
    const plain = await ada.store('zipped', 'readme', join(folder, 'ckpt.index'));
    expect(plain.files.readme).toMatchObject({ filename: 'ckpt.index', size: 5 });
    // A folder without zip, or a path that is not there, is a sentence naming it, not EISDIR/ENOENT.
    await expect(ada.store('zipped', 'weights', folder)).rejects.toThrow(
      `Storing weights: ${folder} is a directory, not a file; store a folder zipped, with { zip: true }`,
    );
    await expect(ada.store('zipped', 'weights', join(dir, 'no-such-file'))).rejects.toThrow(
      `Storing weights: there is no file at ${join(dir, 'no-such-file')}`,
    );
  });

  it('announces alias moves over the event socket to those who may read the model', async () => {
    const adaStore = new DataStore({ url: server.url, token: adaToken });
    const bobStore = new DataStore({ url: server.url, token: bobToken });
    const seenByAda: ModelRecord[] = [];
    const seenByBob: ModelRecord[] = [];
    adaStore.service<ModelRecord>('models').on('patched', (model) => seenByAda.push(model));
    bobStore.service<ModelRecord>('models').on('patched', (model) => seenByBob.push(model));
    await adaStore.listening();
    await bobStore.listening();
    try {
      await ada.create({ name: 'watched' });
      const arrived = new Promise<ModelRecord>((resolve) =>
        adaStore.service<ModelRecord>('models').on('patched', (model) => {
          if (model.name === 'watched') resolve(model);
        }),
      );
      await ada.pushVersion(await pmfModel('watched'), { alias: 'candidate' });
      expect((await arrived).aliases).toEqual({ latest: 1, candidate: 1 });
      // Bob's socket got nothing of Ada's private model (his own later events would arrive in order).
      await bob.create({ name: 'bob-watched' });
      await bob.pushVersion(await pmfModel('bob-watched'));
      await expect.poll(() => seenByBob.map((model) => model.name)).toContain('bob-watched');
      expect(seenByBob.map((model) => model.name)).not.toContain('watched');
      expect(seenByAda.map((model) => model.name)).toContain('watched');
    } finally {
      await adaStore.close();
      await bobStore.close();
    }
  });

  it("keeps someone else's private model out of reach", async () => {
    await ada.create({ name: 'secret' });
    await ada.pushVersion(await pmfModel('secret'));
    await expect(bob.get({ name: 'secret' })).rejects.toMatchObject({ name: 'NotFound' });
    await expect(bob.pullVersion('secret', 'latest', join(dir, 'stolen'))).rejects.toMatchObject({ name: 'NotFound' });
    await expect(readdir(join(dir, 'stolen'))).rejects.toThrow();
  });

  it('refuses invalid PMF trees and trees holding links before sending anything', async () => {
    const tree = await pmfModel('broken');
    await writeFile(join(tree, 'data', 'checkpoints', 'epoch-1.bin'), 'tampered');
    const invalid = ada.pushVersion(tree);
    await expect(invalid).rejects.toBeInstanceOf(LarderError);
    await expect(invalid).rejects.toThrow(/not a valid PMF model|MD5|hash/i);

    const linked = await pmfModel('linked');
    await symlink('/etc/hostname', join(linked, 'extra'));
    await expect(ada.pushVersion(linked)).rejects.toThrow(/not a plain file/);
    await expect(ada.get({ name: 'broken' })).rejects.toMatchObject({ name: 'NotFound' });
    await expect(ada.get({ name: 'linked' })).rejects.toMatchObject({ name: 'NotFound' });
  });
});
