/**
 * Artifacts, run files, data logs and lineage over real HTTP: immutable artifacts whose
 * objects download one by one or as a zip, files granted through the record's permission,
 * typed data logs checked against their shapes, and upstream/downstream lineage.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError } from './support/expect-error.js';
import { startTestServer, TEST_STORES, type TestServer } from './support/test-server.js';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe.each(TEST_STORES)('artifacts, files, data logs and lineage on %s', (store) => {
  let server: TestServer;
  let ada: { id: string; token: string };
  let eve: { id: string; token: string };

  beforeAll(async () => {
    server = await startTestServer({ store, gcIntervalMs: 0 });
    ada = await server.createUser('ada@example.org');
    eve = await server.createUser('eve@example.org');
  });
  afterAll(() => server.close());

  const call = (user: { token: string }, method: string, path: string, body?: unknown) =>
    server.request(method, path, { token: user.token, ...(body === undefined ? {} : { body }) });
  async function upload(user: { token: string }, bytes: Buffer) {
    const response = await fetch(`${server.url}/blobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.token}` },
      body: bytes,
    });
    return (await response.json()) as { sha256: string; size: number };
  }
  const download = (user: { token: string } | undefined, path: string) =>
    fetch(server.url + path, { headers: user ? { authorization: `Bearer ${user.token}` } : {} });

  it('stores an artifact of files and references, immutable, downloadable alone or as a zip', async () => {
    const weights = randomBytes(70_000);
    const config = Buffer.from('{"layers": 3}');
    const [w, c] = [await upload(ada, weights), await upload(ada, config)];
    const artifact = await call(ada, 'POST', '/artifacts', {
      name: 'mnist-model',
      folder: 'models',
      makeFolder: true,
      objects: [
        { path: 'weights/model.bin', ...w },
        { path: 'config.json', ...c },
        { path: 'data/train', uri: 's3://datasets/mnist/train' },
      ],
    });
    expect(artifact.status).toBe(201);
    expect(artifact.body).toMatchObject({
      objectCount: 3,
      bytes: weights.length + config.length,
      folder: '/ada@example.org/models',
    });

    const one = await download(ada, `/artifacts/${artifact.body._id}/objects/weights/model.bin`);
    expect(one.status).toBe(200);
    expect(Buffer.from(await one.arrayBuffer()).equals(weights)).toBe(true);
    expect(one.headers.get('content-disposition')).toContain('model.bin');
    expect((await download(ada, `/artifacts/${artifact.body._id}/objects/data/train`)).status).toBe(404);

    const zip = Buffer.from(await (await download(ada, `/artifacts/${artifact.body._id}/archive`)).arrayBuffer());
    expect(zip.subarray(0, 4).toString('hex')).toBe('504b0304');
    // Stored, not compressed: each file's bytes appear as they are.
    expect(zip.includes(weights)).toBe(true);
    expect(zip.includes(config)).toBe(true);
    expect(zip.toString('latin1')).toContain('s3://datasets/mnist/train');

    expectError(
      await call(ada, 'PATCH', `/artifacts/${artifact.body._id}`, { objects: [] }),
      400,
      'BadRequest',
      /immutable/,
    );
    expect((await call(ada, 'PATCH', `/artifacts/${artifact.body._id}`, { description: 'best so far' })).status).toBe(
      200,
    );
    expectError(await call(eve, 'GET', `/artifacts/${artifact.body._id}`), 404, 'NotFound', /./);
    expect((await download(eve, `/artifacts/${artifact.body._id}/archive`)).status).toBe(404);
    expect((await download(undefined, `/artifacts/${artifact.body._id}/archive`)).status).toBe(401);
  });

  it('refuses objects that escape the artifact, repeat a path, or name files the caller never uploaded', async () => {
    const mine = await upload(ada, randomBytes(100));
    const post = (objects: unknown) => call(ada, 'POST', '/artifacts', { name: `bad-${Math.random()}`, objects });
    expectError(await post([{ path: '../etc/passwd', ...mine }]), 400, 'BadRequest', /relative path/);
    expectError(await post([{ path: '/abs', ...mine }]), 400, 'BadRequest', /relative path/);
    expectError(await post([{ path: 'a\\b', ...mine }]), 400, 'BadRequest', /relative path/);
    expectError(
      await post([
        { path: 'x', ...mine },
        { path: 'x', ...mine },
      ]),
      400,
      'BadRequest',
      /Two objects/,
    );
    expectError(await post([{ path: 'x', sha256: mine.sha256, size: 5 }]), 400, 'BadRequest', /100 stored/);
    const theirs = await upload(eve, randomBytes(64));
    expectError(await post([{ path: 'x', ...theirs }]), 400, 'BadRequest', /not uploaded by you/);
    expectError(await post([{ path: 'x', uri: 'not a uri' }]), 400, 'BadRequest', /URI/);
  });

  it("hands a run's named files to whoever may read the run, and checks data logs against their types", async () => {
    const picture = randomBytes(3000);
    const blob = await upload(ada, picture);
    const run = await call(ada, 'POST', '/runs', { name: 'with-files', public: true });
    const patched = await call(ada, 'PATCH', `/runs/${run.body._id}`, {
      'files.confusion': { ...blob, filename: 'confusion.png' },
      'dataLogs.labelmap': { type: 'labelmap', data: { '0': 'cat', '1': 'dog' } },
      'dataLogs.cm': {
        type: 'heatmap',
        data: {
          categories: ['cat', 'dog'],
          values: [
            [5, 1],
            [2, 7],
          ],
        },
      },
      'dataLogs.loss-curve': { type: 'line', data: { steps: [1, 2], values: [0.5, 0.4] } },
    });
    expect(patched.status).toBe(200);
    // Eve reads the public run and its file, though she never uploaded those bytes.
    const file = await download(eve, `/runs/${run.body._id}/files/confusion`);
    expect(file.status).toBe(200);
    expect(sha256(Buffer.from(await file.arrayBuffer()))).toBe(blob.sha256);
    expect((await download(eve, `/blobs/${blob.sha256}`)).status).toBe(404);
    expect((await download(eve, `/runs/${run.body._id}/files/nothing`)).status).toBe(404);
    // An image data log is served through the run too.
    await call(ada, 'PATCH', `/runs/${run.body._id}`, {
      'dataLogs.sample': { type: 'image', data: { ...blob, filename: 'sample.png' } },
    });
    const image = await download(eve, `/runs/${run.body._id}/data-logs/sample`);
    expect(image.status).toBe(200);
    expect(sha256(Buffer.from(await image.arrayBuffer()))).toBe(blob.sha256);
    expect((await download(eve, `/runs/${run.body._id}/data-logs/labelmap`)).status).toBe(404);
    expect((await download(undefined, `/runs/${run.body._id}/data-logs/sample`)).status).toBe(401);

    const bad = (entry: unknown) => call(ada, 'PATCH', `/runs/${run.body._id}`, { 'dataLogs.x': entry });
    expectError(
      await bad({ type: 'heatmap', data: { categories: ['a', 'b'], values: [[1]] } }),
      400,
      'BadRequest',
      /heatmap/,
    );
    expectError(await bad({ type: 'bar', data: { x: ['a'], y: [1, 2] } }), 400, 'BadRequest', /bar/);
    expectError(await bad({ type: 'labelmap', data: { cat: 0 } }), 400, 'BadRequest', /labelmap/);
    expectError(await bad({ type: 'chart', data: 1 }), 400, 'BadRequest', /type must be one of/);
    expectError(
      await bad({ type: 'image', data: { sha256: 'f'.repeat(64), size: 1 } }),
      400,
      'BadRequest',
      /not uploaded by you/,
    );
    expect((await bad({ type: 'table', data: { data: [[1, 'a']], rows: ['r1'], columns: ['n', 's'] } })).status).toBe(
      200,
    );
    expect((await bad(null)).status).toBe(200);
  });

  it('answers upstream and downstream lineage through the runs the caller may read', async () => {
    const dataset = { kind: 'dataset-version', id: 'ds-v1' };
    const prep = await call(ada, 'POST', '/runs', {
      name: 'prep',
      associations: { inputs: [dataset], outputs: [{ kind: 'artifact', id: 'features-1' }] },
    });
    const train = await call(ada, 'POST', '/runs', {
      name: 'train',
      associations: {
        inputs: [{ kind: 'artifact', id: 'features-1' }],
        outputs: [{ kind: 'model-version', id: 'mv-1' }],
      },
    });
    const up = await call(ada, 'GET', '/lineage?kind=model-version&id=mv-1&direction=upstream');
    expect(up.status).toBe(200);
    const keys = (nodes: { kind: string; id: string }[]) => nodes.map((node) => `${node.kind}:${node.id}`).sort();
    expect(keys(up.body.nodes)).toEqual(
      [
        'artifact:features-1',
        'dataset-version:ds-v1',
        'model-version:mv-1',
        `run:${prep.body._id}`,
        `run:${train.body._id}`,
      ].sort(),
    );
    expect(up.body.edges).toContainEqual({
      from: { kind: 'run', id: train.body._id },
      to: { kind: 'model-version', id: 'mv-1' },
    });
    const down = await call(ada, 'GET', '/lineage?kind=dataset-version&id=ds-v1&direction=downstream&depth=2');
    expect(keys(down.body.nodes)).toEqual(
      ['artifact:features-1', 'dataset-version:ds-v1', `run:${prep.body._id}`].sort(),
    );
    // Eve cannot see Ada's runs, so the graph she gets is the node alone.
    const eves = await call(eve, 'GET', '/lineage?kind=model-version&id=mv-1&direction=upstream');
    expect(eves.body.nodes).toEqual([{ kind: 'model-version', id: 'mv-1' }]);
    expectError(await call(eve, 'GET', `/lineage?kind=run&id=${train.body._id}`), 404, 'NotFound', /./);
    expectError(await call(ada, 'GET', '/lineage?kind=planet&id=x'), 400, 'BadRequest', /kind/);
    expectError(
      await call(ada, 'POST', '/runs', { name: 'bad', associations: { inputs: [{ kind: 'x', id: '1' }] } }),
      400,
      'BadRequest',
      /associations/,
    );
  });
});
