/**
 * The Marcelle drop-in over real HTTP, as Marcelle's clients use it: model and asset
 * uploads answered in Marcelle's shapes, downloads by document, files held by documents and
 * collected once replaced or removed, permissions on every route, and Marcelle's runs and
 * models showing up in Larder (hparams, metrics, registry versions that validate as PMF).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { validateModel } from '@larder/pmf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postNamedFiles, tfjsManifest, WEIGHTS } from './marcelle-fixtures/marcelle-forms.js';
import { startTestServer, startTwoUserServer, type TestServer } from './support/test-server.js';

const SHA = /^[0-9a-f]{64}$/;

describe('Marcelle drop-in (auth on)', () => {
  let server: TestServer;
  let ada: { id: string; token: string };
  let bob: { id: string; token: string };
  const gc = () => server.request('POST', '/blobs/gc', { token: server.adminToken, body: { graceSeconds: 0 } });
  const blobExists = async (sha256: string) =>
    (await server.request('HEAD', `/blobs/${sha256}`, { token: server.adminToken })).status === 200;

  beforeAll(async () => {
    ({ server, ada, bob } = await startTwoUserServer({ gcIntervalMs: 0 }));
  });
  afterAll(() => server.close());

  async function uploadTfjs(token: string, manifest = tfjsManifest()) {
    return postNamedFiles(
      server,
      '/tfjs-models/upload',
      [
        { field: 'model.json', bytes: manifest },
        { field: 'model.weights.bin', bytes: WEIGHTS },
        { field: 'notes.txt', bytes: 'dropped: not a tfjs field' },
      ],
      token,
    );
  }

  it('uploads tfjs files in Marcelle shape and serves them through the document', async () => {
    const upload = await uploadTfjs(ada.token);
    expect(upload.status).toBe(200);
    expect(upload.body).toEqual([
      ['model.json', expect.stringMatching(SHA)],
      ['model.weights.bin', expect.stringMatching(SHA)],
    ]);
    const created = await server.request('POST', '/tfjs-models', {
      token: ada.token,
      body: { name: 'tiny@3', files: upload.body, format: 'tfjs', metadata: { tfjsModelFormat: 'layers-model' } },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'tiny@3', files: upload.body, format: 'tfjs', userId: ada.id });

    const json = await fetch(`${server.url}/tfjs-models/${created.body._id}/model.json`, {
      headers: { authorization: `Bearer ${ada.token}` },
    });
    expect(json.status).toBe(200);
    expect(json.headers.get('content-type')).toMatch(/application\/json/);
    expect(await json.json()).toMatchObject({ format: 'layers-model' });
    const weights = await fetch(`${server.url}/tfjs-models/${created.body._id}/model.weights.bin`, {
      headers: { authorization: `Bearer ${ada.token}` },
    });
    expect(new Uint8Array(await weights.arrayBuffer())).toEqual(WEIGHTS);

    // Private to Ada: Bob and anonymous callers see nothing, and a missing file is a 404.
    const asBob = await server.request('GET', `/tfjs-models/${created.body._id}/model.json`, { token: bob.token });
    expect(asBob.status).toBe(404);
    expect((await fetch(`${server.url}/tfjs-models/${created.body._id}/model.json`)).status).toBe(404);
    expect(
      (await server.request('GET', `/tfjs-models/${created.body._id}/nope.bin`, { token: ada.token })).status,
    ).toBe(404);
    // Uploads need a signed-in caller, by JWT or API key.
    expect((await uploadTfjs('')).status).toBe(401);
    expect((await uploadTfjs(server.adminToken as string)).status).toBe(200);
  });

  it('makes an uploaded tfjs model a registry model whose version is a valid PMF tree', async () => {
    const upload = await uploadTfjs(ada.token);
    const created = await server.request('POST', '/tfjs-models', {
      token: ada.token,
      body: { name: 'digits@5', files: upload.body, format: 'tfjs', metadata: { epoch: 5 } },
    });
    expect(created.body.registry).toMatchObject({ modelName: 'digits', version: 1 });
    const model = await server.request('GET', `/models/${created.body.registry.modelId}`, { token: ada.token });
    expect(model.body).toMatchObject({
      name: 'digits',
      framework: 'tensorflowjs',
      userId: ada.id,
      aliases: { latest: 1 },
    });
    const version = await server.request('GET', `/model-versions/${created.body.registry.versionId}`, {
      token: ada.token,
    });
    expect(version.body.pmf.checkpoints).toEqual([
      { reference: 'epoch-5', epoch: 5, path: 'data/checkpoints/model.json', md5: expect.any(String) },
    ]);

    // Pulled file by file, the version is a PMF model that validates strictly.
    const root = await mkdtemp(join(tmpdir(), 'marcelle-pmf-'));
    try {
      for (const folder of version.body.folders) await mkdir(join(root, folder), { recursive: true });
      for (const file of version.body.files) {
        const response = await fetch(`${server.url}/model-files/${version.body._id}/${file.path}`, {
          headers: { authorization: `Bearer ${ada.token}` },
        });
        expect(response.status).toBe(200);
        await mkdir(dirname(join(root, file.path)), { recursive: true });
        await writeFile(join(root, file.path), new Uint8Array(await response.arrayBuffer()));
      }
      expect(await validateModel(root, { strict: true })).toEqual([]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }

    // Removing the Marcelle document removes its mirror.
    await server.request('DELETE', `/tfjs-models/${created.body._id}`, { token: ada.token });
    const gone = await server.request('GET', `/model-versions/${created.body.registry.versionId}`, {
      token: ada.token,
    });
    expect(gone.status).toBe(404);
  });

  it('refuses documents naming files their writer did not upload', async () => {
    const upload = await uploadTfjs(ada.token, tfjsManifest('other.bin'));
    const forged = await server.request('POST', '/tfjs-models', {
      token: bob.token,
      body: { name: 'stolen', files: upload.body, format: 'tfjs' },
    });
    expect(forged.status).toBe(400);
    expect(forged.body.message).toMatch(/upload/);
    const made = await server.request('POST', '/tfjs-models', {
      token: bob.token,
      body: { name: 'made-up', files: [['model.json', 'not-an-upload']], format: 'tfjs' },
    });
    expect(made.status).toBe(400);
  });

  it('lets the collector take files a document replaced or that went with it', async () => {
    const first = await uploadTfjs(ada.token, tfjsManifest('first.bin'));
    const created = await server.request('POST', '/tfjs-models', {
      token: ada.token,
      body: { name: 'evolving', files: first.body, format: 'tfjs', metadata: {} },
    });
    const firstManifest = first.body[0][1] as string;
    const second = await uploadTfjs(ada.token, tfjsManifest('second.bin'));
    // Marcelle saves a model again with `update`.
    const updated = await server.request('PUT', `/tfjs-models/${created.body._id}`, {
      token: ada.token,
      body: { name: 'evolving', files: second.body, format: 'tfjs', metadata: {} },
    });
    expect(updated.status).toBe(200);
    expect(updated.body.registry.version).toBe(2);
    await gc();
    expect(await blobExists(firstManifest)).toBe(false);
    expect(await blobExists(second.body[0][1])).toBe(true);
    await server.request('DELETE', `/tfjs-models/${created.body._id}`, { token: ada.token });
    await gc();
    expect(await blobExists(second.body[0][1])).toBe(false);
  });

  it('keeps only .onnx fields on ONNX uploads and serves them', async () => {
    const upload = await postNamedFiles(
      server,
      '/onnx-models/upload',
      [
        { field: 'classifier.onnx', bytes: 'onnx bytes' },
        { field: 'model.json', bytes: '{}' },
      ],
      ada.token,
    );
    expect(upload.status).toBe(200);
    expect(upload.body).toEqual([['classifier.onnx', expect.stringMatching(SHA)]]);
    const created = await server.request('POST', '/onnx-models', {
      token: ada.token,
      body: { name: 'classifier', files: upload.body, format: 'onnx', metadata: {} },
    });
    expect(created.body.registry).toMatchObject({ modelName: 'classifier' });
    const file = await fetch(`${server.url}/onnx-models/${created.body._id}/classifier.onnx`, {
      headers: { authorization: `Bearer ${ada.token}` },
    });
    expect(await file.text()).toBe('onnx bytes');
  });

  describe('assets', () => {
    it("answers Marcelle's upload shape, drops fields outside the whitelist, 400 when none is kept", async () => {
      const upload = await postNamedFiles(
        server,
        '/assets/upload',
        [
          { field: 'photo.png', bytes: 'png bytes' },
          { field: 'sound.wav', bytes: 'wav bytes', filename: 'my sound.wav' },
          { field: 'script.js', bytes: 'alert(1)' },
        ],
        ada.token,
      );
      expect(upload.status).toBe(200);
      expect(upload.body).toEqual({
        'photo.png': expect.stringMatching(/^[0-9a-f]{64}\/photo\.png$/),
        'my sound.wav': expect.stringMatching(/^[0-9a-f]{64}\/sound\.wav$/),
      });
      const none = await postNamedFiles(server, '/assets/upload', [{ field: 'a.exe', bytes: 'x' }], ada.token);
      expect(none.status).toBe(400);
      expect(none.body.error).toMatch(/jpg, jpeg, png, wav/);
      expect((await postNamedFiles(server, '/assets/upload', [{ field: 'a.png', bytes: 'x' }])).status).toBe(401);
    });

    it('serves asset files to readers of the asset document, anyone when it is public', async () => {
      const upload = await postNamedFiles(server, '/assets/upload', [{ field: 'cat.png', bytes: 'cat' }], ada.token);
      const url = upload.body['cat.png'] as string;
      const get = (token?: string) => server.request('GET', `/assets/${url}`, token ? { token } : {});
      // The uploader reads it before any document exists; nobody else does.
      expect((await get(ada.token)).body).toBe('cat');
      expect((await get(bob.token)).status).toBe(404);
      const asset = await server.request('POST', '/assets', {
        token: ada.token,
        body: { filename: 'cat.png', extension: '.png', mime: 'image/png', url },
      });
      expect(asset.status).toBe(201);
      expect((await get(bob.token)).status).toBe(404);
      expect((await get()).status).toBe(404);
      await server.request('PATCH', `/assets/${asset.body._id}`, { token: ada.token, body: { public: true } });
      const anonymous = await fetch(`${server.url}/assets/${url}`);
      expect(anonymous.status).toBe(200);
      expect(anonymous.headers.get('content-type')).toBe('image/png');
      expect((await get(bob.token)).body).toBe('cat');
    });

    it('refuses asset documents naming bytes their writer did not upload, and frees removed ones', async () => {
      const upload = await postNamedFiles(server, '/assets/upload', [{ field: 'dog.jpg', bytes: 'dog' }], ada.token);
      const url = upload.body['dog.jpg'] as string;
      const forged = await server.request('POST', '/assets', {
        token: bob.token,
        body: { filename: 'dog.jpg', url, public: true },
      });
      expect(forged.status).toBe(400);
      const asset = await server.request('POST', '/assets', { token: ada.token, body: { filename: 'dog.jpg', url } });
      await gc();
      const sha256 = url.split('/')[0] as string;
      expect(await blobExists(sha256)).toBe(true);
      await server.request('DELETE', `/assets/${asset.body._id}`, { token: ada.token });
      await gc();
      expect(await blobExists(sha256)).toBe(false);
    });

    it('leaves the datalake form (fields named "file") to the datalake', async () => {
      const form = new FormData();
      form.append('tags', 'x');
      form.append('file', new Blob([new Uint8Array([1, 2, 3])]), 'raw.bin');
      const response = await fetch(`${server.url}/assets/upload`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ada.token}` },
        body: form,
      });
      expect(response.status).toBe(201);
      expect(((await response.json()) as { data: unknown[] }).data).toHaveLength(1);
    });
  });

  describe('runs', () => {
    it('keeps a Python 0.0.4 run as written and shows it in Larder with hparams and metrics', async () => {
      const run = {
        run_start_at: '2021-10-07T14:03:12',
        source: 'keras',
        status: 'idle',
        params: { epochs: 3, batch_size: 32 },
        logs: {},
        checkpoints: [],
        assets: [],
      };
      const created = await server.request('POST', '/runs', { token: ada.token, body: run });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ ...run, name: 'keras-2021-10-07T14:03:12', hparams: run.params });
      const logs = { loss: [0.9, 0.5, 0.3], val_loss: [1, 0.7, 0.6], acc: [0.5, 0.7, 0.9] };
      const patched = await server.request('PATCH', `/runs/${created.body._id}`, {
        token: ada.token,
        body: { ...run, status: 'epoch', epoch: 3, logs },
      });
      expect(patched.body).toMatchObject({ ...run, status: 'epoch', logs });
      // The same logs again (every update sends them all): no point is added twice.
      await server.request('PATCH', `/runs/${created.body._id}`, { token: ada.token, body: { ...run, logs } });
      const loss = await server.request('GET', `/metrics?run=${created.body._id}&type=train&name=loss&raw=true`, {
        token: ada.token,
      });
      expect(loss.body).toMatchObject({ count: 3, steps: [1, 2, 3], values: [0.9, 0.5, 0.3] });
      const val = await server.request('GET', `/metrics?run=${created.body._id}&type=val&name=loss&raw=true`, {
        token: ada.token,
      });
      expect(val.body.values).toEqual([1, 0.7, 0.6]);
      const summary = await server.request('GET', `/runs/${created.body._id}`, { token: ada.token });
      expect(summary.body.metrics.train.acc).toMatchObject({ last: 0.9, count: 3 });
      // Marcelle's Python 0.0.4 retrieve_run query.
      const found = await server.request(
        'GET',
        `/runs?source=keras&run_start_at=2021-10-07T14:03:12&$sort[$updatedAt]=-1`,
        { token: ada.token },
      );
      expect(found.status).toBe(200);
      expect(found.body.data.map((each: { _id: string }) => each._id)).toEqual([created.body._id]);
    });

    it("links a run's checkpoints to their registry versions", async () => {
      const upload = await uploadTfjs(ada.token, tfjsManifest('ckpt.bin'));
      const checkpoint = await server.request('POST', '/tfjs-models', {
        token: ada.token,
        body: { name: 'mlp-1@2', files: upload.body, format: 'tfjs', metadata: { epoch: 2 } },
      });
      const run = await server.request('POST', '/runs', {
        token: ada.token,
        body: {
          name: 'mlp-1',
          basename: 'mlp',
          start: '2021-10-07T15:00:00',
          source: 'tfjs',
          params: {},
          logs: { loss: [1, 0.5] },
          checkpoints: [{ id: checkpoint.body._id, name: 'mlp-1@2', service: 'tfjs-models' }],
        },
      });
      const version = await server.request('GET', `/model-versions/${checkpoint.body.registry.versionId}`, {
        token: ada.token,
      });
      expect(version.body.producedBy).toEqual([run.body._id]);
    });
  });
});

describe('Marcelle drop-in (configured whitelist, auth off)', () => {
  let server: TestServer;
  const previous = process.env.LARDER_MARCELLE_ASSET_EXTENSIONS;

  beforeAll(async () => {
    process.env.LARDER_MARCELLE_ASSET_EXTENSIONS = 'txt, .CSV';
    server = await startTestServer({ auth: false, gcIntervalMs: 0 });
  });
  afterAll(async () => {
    if (previous === undefined) delete process.env.LARDER_MARCELLE_ASSET_EXTENSIONS;
    else process.env.LARDER_MARCELLE_ASSET_EXTENSIONS = previous;
    await server.close();
  });

  it('keeps only the configured extensions', async () => {
    const upload = await postNamedFiles(server, '/assets/upload', [
      { field: 'notes.txt', bytes: 'n' },
      { field: 'table.csv', bytes: 'a,b' },
      { field: 'photo.png', bytes: 'p' },
    ]);
    expect(Object.keys(upload.body)).toEqual(['notes.txt', 'table.csv']);
    expect((await server.request('GET', `/assets/${upload.body['table.csv']}`)).body).toBe('a,b');
  });
});
