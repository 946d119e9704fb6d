/**
 * The model registry over real HTTP: models with Picsellia's network fields, versions that
 * hold PMF trees as blobs, aliases, lineage, downloads permitted by the records, and every
 * kind of bad input refused with a 4xx that leaves nothing stored.
 */

import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError } from './support/expect-error.js';
import { pmfVersionBody } from './support/pmf-version-body.js';
import { startTwoUserServer, TEST_STORES, type TestServer } from './support/test-server.js';

type User = { id: string; token: string; email: string };
type FileRef = { path: string; sha256: string; size: number };

describe.each(TEST_STORES)('model registry on %s', (store) => {
  let server: TestServer;
  let ada: User;
  let bob: User;

  beforeAll(async () => {
    ({ server, ada, bob } = await startTwoUserServer({ store, gcIntervalMs: 0 }));
  });
  afterAll(() => server.close());

  async function upload(token: string, bytes: Buffer | string): Promise<{ sha256: string; size: number }> {
    const response = await fetch(`${server.url}/blobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: bytes,
    });
    expect(response.status).toBe(201);
    return (await response.json()) as { sha256: string; size: number };
  }

  /** A PMF tree's files, uploaded by `token`, and the version body naming them. */
  function versionBody(token: string, modelId: string, weights: Buffer = randomBytes(2000)) {
    return pmfVersionBody((content) => upload(token, content), modelId, { weights });
  }

  async function createModel(token: string, body: Record<string, unknown>) {
    const created = await server.request('POST', '/models', { token, body });
    expect(created.status).toBe(201);
    return created.body as { _id: string; name: string; [key: string]: unknown };
  }

  const modelOf = async (id: string) => (await server.request('GET', `/models/${id}`, { token: ada.token })).body;
  const versionsOf = async (token: string, modelId: string) =>
    (await server.request('GET', `/model-versions?modelId=${modelId}&$sort[version]=1`, { token })).body;

  it('creates a model with the Picsellia network fields, defaults the rest, and keeps names unique per owner', async () => {
    const model = await createModel(ada.token, {
      name: 'efficientdet-d2',
      type: 'detection',
      framework: 'tensorflow2',
      tags: ['efficientdet', 'COCO'],
      description: 'A real game changer',
      labels: { '1': 'person', '2': 'bicycle' },
      baseParameters: { steps: 200000, batch_size: 8 },
      readme: '# EfficientDet',
    });
    expect(model).toMatchObject({
      name: 'efficientdet-d2',
      type: 'detection',
      framework: 'tensorflow2',
      tags: ['efficientdet', 'COCO'],
      private: true,
      public: false,
      labels: { '1': 'person', '2': 'bicycle' },
      baseParameters: { steps: 200000, batch_size: 8 },
      files: {},
      aliases: {},
      versionCount: 0,
      userId: ada.id,
    });
    const twice = await server.request('POST', '/models', { token: ada.token, body: { name: 'efficientdet-d2' } });
    expectError(twice, 409, 'Conflict', /already exists/);
    // Another owner has their own name space.
    await createModel(bob.token, { name: 'efficientdet-d2' });

    const bad = [
      [{ name: '../etc' }, /Invalid model name/],
      [{ name: 'a:b' }, /Invalid model name/],
      [{}, /Invalid model name/],
      [{ name: 'ok', tags: 'x' }, /tags/],
      [{ name: 'ok', privat: true }, /no field "privat"/],
      [{ name: 'ok', labels: { '1': 7 } }, /labels\.1/],
    ] as const;
    for (const [body, message] of bad) {
      expectError(await server.request('POST', '/models', { token: ada.token, body }), 400, 'BadRequest', message);
    }
    const mine = await server.request('GET', '/models?name=ok', { token: ada.token });
    expect(mine.body.total).toBe(0);
    // The refused creations took no name: it is still free.
    await createModel(ada.token, { name: 'ok' });
  });

  it('pushes versions that number themselves, move latest, and serve their files to readers', async () => {
    const model = await createModel(ada.token, { name: 'resnet' });
    const weights = randomBytes(5000);
    const first = await server.request('POST', '/model-versions', {
      token: ada.token,
      body: await versionBody(ada.token, model._id, weights),
    });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      modelId: model._id,
      modelName: 'resnet',
      version: 1,
      userId: ada.id,
      public: false,
      producedBy: [],
      usedBy: [],
      pmf: { checkpoints: [{ reference: 1, epoch: 1, path: 'data/checkpoints/1.bin' }] },
    });
    expect((await modelOf(model._id)).aliases).toEqual({ latest: 1 });

    const second = await server.request('POST', '/model-versions', {
      token: ada.token,
      body: { ...(await versionBody(ada.token, model._id)), aliases: ['production'], producedBy: ['run-1'] },
    });
    expect(second.body).toMatchObject({ version: 2, producedBy: ['run-1'] });
    expect((await modelOf(model._id)).aliases).toEqual({ latest: 2, production: 2 });

    const download = await fetch(`${server.url}/model-files/${first.body._id}/data/checkpoints/1.bin`, {
      headers: { authorization: `Bearer ${ada.token}` },
    });
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer()).equals(weights)).toBe(true);
    const ranged = await fetch(`${server.url}/model-files/${first.body._id}/data/checkpoints/1.bin`, {
      headers: { authorization: `Bearer ${ada.token}`, range: 'bytes=10-19' },
    });
    expect(ranged.status).toBe(206);
    expect(Buffer.from(await ranged.arrayBuffer()).equals(weights.subarray(10, 20))).toBe(true);
    const absent = await server.request('GET', `/model-files/${first.body._id}/data/checkpoints/2.bin`, {
      token: ada.token,
    });
    expectError(absent, 404, 'NotFound', /has no file/);
  });

  it('hides a private model, its versions and files from others, and shares reads (not writes) once it is public', async () => {
    const model = await createModel(ada.token, { name: 'shared-later' });
    const version = (
      await server.request('POST', '/model-versions', {
        token: ada.token,
        body: await versionBody(ada.token, model._id),
      })
    ).body;
    const fileUrl = `/model-files/${version._id}/config.yaml`;

    expectError(
      await server.request('GET', `/models/${model._id}`, { token: bob.token }),
      404,
      'NotFound',
      /No record/,
    );
    expect((await versionsOf(bob.token, model._id)).total).toBe(0);
    expectError(await server.request('GET', fileUrl, { token: bob.token }), 404, 'NotFound', /may read/);
    const push = await server.request('POST', '/model-versions', {
      token: bob.token,
      body: await versionBody(bob.token, model._id),
    });
    expectError(push, 404, 'NotFound', /No model/);
    expect((await modelOf(model._id)).versionCount).toBe(1);

    const shared = await server.request('PATCH', `/models/${model._id}`, {
      token: ada.token,
      body: { private: false },
    });
    expect(shared.body).toMatchObject({ private: false, public: true });
    expect((await server.request('GET', `/models/${model._id}`, { token: bob.token })).status).toBe(200);
    expect((await versionsOf(bob.token, model._id)).total).toBe(1);
    const file = await server.request('GET', fileUrl, { token: bob.token });
    expect(file.status).toBe(200);
    expect(file.body).toBe('learning_rate: 0.1\n');
    // Reading through the record is not a claim on the blob itself.
    const sha = version.files.find((each: FileRef) => each.path === 'data/checkpoints/1.bin').sha256;
    expect((await server.request('HEAD', `/blobs/${sha}`, { token: bob.token })).status).toBe(404);

    const bobPush = await server.request('POST', '/model-versions', {
      token: bob.token,
      body: await versionBody(bob.token, model._id),
    });
    expectError(bobPush, 403, 'Forbidden', /not change/);
    const bobPatch = await server.request('PATCH', `/models/${model._id}`, {
      token: bob.token,
      body: { description: 'mine now' },
    });
    expectError(bobPatch, 403, 'Forbidden', /not change/);
    expectError(
      await server.request('DELETE', `/model-versions/${version._id}`, { token: bob.token }),
      403,
      'Forbidden',
      /not change/,
    );
    expect((await modelOf(model._id)).versionCount).toBe(1);
    expect((await modelOf(model._id)).description).toBe('');
  });

  it('refuses hostile paths and inconsistent trees with a 400 and stores nothing', async () => {
    const model = await createModel(ada.token, { name: 'hostile' });
    const valid = await versionBody(ada.token, model._id);
    const withFile = (path: string) => ({
      ...valid,
      files: [...valid.files, { path, sha256: valid.files[0]?.sha256, size: valid.files[0]?.size }],
    });
    const cases: [unknown, RegExp][] = [
      [withFile('../../etc/passwd'), /"\.\." segments/],
      [withFile('/etc/passwd'), /relative to the model root/],
      [withFile('C:/Windows/x'), /relative to the model root/],
      [withFile('data\\checkpoints\\x'), /separator/],
      [withFile('data//x'), /empty segments/],
      [withFile('data/./x'), /"\.\." segments/],
      [withFile('evil\u0007.bin'), /control characters/],
      [withFile('CONFIG.yaml'), /appears twice/],
      [withFile('config.yaml/inner'), /both a file and a folder/],
      [{ ...valid, files: valid.files.filter((file) => file.path !== 'data/checkpoints/1.bin') }, /checkpoint file/],
      [{ ...valid, files: valid.files.filter((file) => file.path !== 'metadata.yaml') }, /metadata file/],
      [
        { ...valid, pmf: { ...valid.pmf, checkpoints: [{ ...valid.pmf.checkpoints[0], path: 'config.yaml' }] } },
        /data\/checkpoints/,
      ],
      [{ ...valid, pmf: { ...valid.pmf, configuration: { path: 'config.yaml', md5: 'nope' } } }, /MD5/],
      [{ ...valid, pmf: { ...valid.pmf, training: { ...valid.pmf.training, status: 'done' } } }, /status/],
      [{ ...valid, aliases: ['1st'] }, /Invalid alias/],
      [{ ...valid, producedBy: ['../run'] }, /run ids/],
      [{ ...valid, extra: 1 }, /no field "extra"/],
      [{ ...valid, modelId: 'does-not-exist' }, /No model/],
    ];
    for (const [body, message] of cases) {
      const answer = await server.request('POST', '/model-versions', { token: ada.token, body });
      expect(answer.status, JSON.stringify(answer.body)).toBeGreaterThanOrEqual(400);
      expect(answer.status).toBeLessThan(500);
      expect(answer.body.message).toMatch(message);
    }
    expect((await versionsOf(ada.token, model._id)).total).toBe(0);
    expect(await modelOf(model._id)).toMatchObject({ versionCount: 0, aliases: {} });
  });

  it('refuses a version naming blobs its pusher does not hold, and leaves them collectable', async () => {
    const model = await createModel(ada.token, { name: 'borrowed' });
    const body = await versionBody(ada.token, model._id);
    const secret = randomBytes(3000);
    const bobs = await upload(bob.token, secret);
    const checkpoint = { path: 'data/checkpoints/1.bin', ...bobs };
    const swapped = { ...body, files: body.files.map((file) => (file.path === checkpoint.path ? checkpoint : file)) };
    const borrowed = await server.request('POST', '/model-versions', { token: ada.token, body: swapped });
    expectError(borrowed, 400, 'BadRequest', /not uploaded by you: data\/checkpoints\/1\.bin/);

    const invented = {
      ...body,
      files: body.files.map((file) => (file.path === checkpoint.path ? { ...file, sha256: 'a'.repeat(64) } : file)),
    };
    expectError(
      await server.request('POST', '/model-versions', { token: ada.token, body: invented }),
      400,
      'BadRequest',
      /not on the server or not uploaded by you/,
    );
    const resized = { ...body, files: body.files.map((file) => ({ ...file, size: file.size + 1 })) };
    expectError(
      await server.request('POST', '/model-versions', { token: ada.token, body: resized }),
      400,
      'BadRequest',
      /wrong size/,
    );
    expect((await versionsOf(ada.token, model._id)).total).toBe(0);
    expect(await modelOf(model._id)).toMatchObject({ versionCount: 0, aliases: {} });

    // Nothing refers to Bob's bytes: collection takes them.
    const collected = await server.request('POST', '/blobs/gc', {
      token: server.adminToken,
      body: { graceSeconds: 0 },
    });
    expect(collected.status).toBe(200);
    expect((await server.request('HEAD', `/blobs/${bobs.sha256}`, { token: server.adminToken })).status).toBe(404);
  });

  it('moves aliases explicitly, refuses aliases to missing versions, and repairs them when a version goes', async () => {
    const model = await createModel(ada.token, { name: 'aliased' });
    const versions = [];
    for (let i = 0; i < 3; i++) {
      const pushed = await server.request('POST', '/model-versions', {
        token: ada.token,
        body: await versionBody(ada.token, model._id),
      });
      versions.push(pushed.body);
    }
    const moved = await server.request('PATCH', `/models/${model._id}`, {
      token: ada.token,
      body: { 'aliases.production': 1, 'aliases.staging': 3 },
    });
    expect(moved.body.aliases).toEqual({ latest: 3, production: 1, staging: 3 });
    expectError(
      await server.request('PATCH', `/models/${model._id}`, { token: ada.token, body: { 'aliases.production': 9 } }),
      400,
      'BadRequest',
      /existing version/,
    );
    expectError(
      await server.request('PATCH', `/models/${model._id}`, { token: ada.token, body: { versionCount: 0 } }),
      400,
      'BadRequest',
      /kept by the server/,
    );
    const removed = await server.request('DELETE', `/model-versions/${versions[2]._id}`, { token: ada.token });
    expect(removed.status).toBe(200);
    expect((await modelOf(model._id)).aliases).toEqual({ latest: 2, production: 1 });
    const unaliased = await server.request('PATCH', `/models/${model._id}`, {
      token: ada.token,
      body: { 'aliases.production': null },
    });
    expect(unaliased.body.aliases).toEqual({ latest: 2 });
    // Numbers are never reused.
    const next = await server.request('POST', '/model-versions', {
      token: ada.token,
      body: await versionBody(ada.token, model._id),
    });
    expect(next.body.version).toBe(4);
  });

  it('keeps versions immutable except description and lineage', async () => {
    const model = await createModel(ada.token, { name: 'lineage' });
    const version = (
      await server.request('POST', '/model-versions', {
        token: ada.token,
        body: await versionBody(ada.token, model._id),
      })
    ).body;
    const linked = await server.request('PATCH', `/model-versions/${version._id}`, {
      token: ada.token,
      body: { usedBy: ['run-a', 'run-b', 'run-a'], description: 'baseline' },
    });
    expect(linked.body).toMatchObject({ usedBy: ['run-a', 'run-b'], description: 'baseline' });
    expectError(
      await server.request('PATCH', `/model-versions/${version._id}`, { token: ada.token, body: { version: 7 } }),
      400,
      'BadRequest',
      /immutable/,
    );
    expectError(
      await server.request('PATCH', `/model-versions/${version._id}`, { token: ada.token, body: { usedBy: 'run-a' } }),
      400,
      'BadRequest',
      /usedBy/,
    );
    const replaced = await server.request('PUT', `/model-versions/${version._id}`, { token: ada.token, body: {} });
    expect(replaced.status).toBe(405);
  });

  it('stores named files the writer holds and serves them through the model', async () => {
    const model = await createModel(ada.token, { name: 'named-files' });
    const config = await upload(ada.token, 'num_classes: 90\n');
    const stored = await server.request('PATCH', `/models/${model._id}`, {
      token: ada.token,
      body: { 'files.config': { ...config, filename: 'pipeline.config' } },
    });
    expect(stored.status).toBe(200);
    expect(stored.body.files).toEqual({ config: { ...config, filename: 'pipeline.config' } });
    const read = await server.request('GET', `/model-named-files/${model._id}/config`, { token: ada.token });
    expect(read.status).toBe(200);
    expect(read.body).toBe('num_classes: 90\n');
    expect(read.headers.get('content-disposition')).toMatch(/pipeline\.config/);

    const bobs = await upload(bob.token, randomBytes(100));
    expectError(
      await server.request('PATCH', `/models/${model._id}`, {
        token: ada.token,
        body: { 'files.weights': { ...bobs, filename: 'w.bin' } },
      }),
      400,
      'BadRequest',
      /not uploaded by you: weights/,
    );
    expectError(
      await server.request('PATCH', `/models/${model._id}`, {
        token: ada.token,
        body: { 'files.../x': { ...config, filename: 'x' } },
      }),
      400,
      'BadRequest',
      /Invalid/,
    );
    expect(Object.keys((await modelOf(model._id)).files)).toEqual(['config']);
    expectError(
      await server.request('GET', `/model-named-files/${model._id}/config`, { token: bob.token }),
      404,
      'NotFound',
      /may read/,
    );
  });

  it('removes a model with its versions, frees its name, and lets collection reclaim its files', async () => {
    const model = await createModel(ada.token, { name: 'short-lived' });
    const weights = randomBytes(4000);
    const version = (
      await server.request('POST', '/model-versions', {
        token: ada.token,
        body: await versionBody(ada.token, model._id, weights),
      })
    ).body;
    const sha = version.files.find((file: FileRef) => file.path === 'data/checkpoints/1.bin').sha256;
    const gc = () => server.request('POST', '/blobs/gc', { token: server.adminToken, body: { graceSeconds: 0 } });
    await gc();
    expect((await server.request('HEAD', `/blobs/${sha}`, { token: server.adminToken })).status).toBe(200);

    expect((await server.request('DELETE', `/models/${model._id}`, { token: ada.token })).status).toBe(200);
    expect((await server.request('GET', `/model-versions/${version._id}`, { token: ada.token })).status).toBe(404);
    await createModel(ada.token, { name: 'short-lived' });
    await gc();
    expect((await server.request('HEAD', `/blobs/${sha}`, { token: server.adminToken })).status).toBe(404);
  });
});
