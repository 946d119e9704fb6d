/**
 * Datasets over real HTTP: versions derived from others, labels and annotations with review
 * status, published versions that never change and protect their pictures, COCO export that
 * is valid and imports back to the same annotations, and a version of 100,000 pictures.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTwoUserServer, TEST_STORES, type TestServer } from './support/test-server.js';

function picture(width: number, height: number, seed: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: seed % 256, g: 20, b: (seed * 13) % 256 } } })
    .jpeg()
    .toBuffer();
}

/** The structural rules of COCO that tools such as pycocotools rely on. */
function expectValidCoco(coco: any): void {
  expect(Array.isArray(coco.images) && Array.isArray(coco.annotations) && Array.isArray(coco.categories)).toBe(true);
  const imageIds = new Set<number>();
  for (const image of coco.images) {
    expect(Number.isInteger(image.id)).toBe(true);
    expect(imageIds.has(image.id)).toBe(false);
    imageIds.add(image.id);
    expect(typeof image.file_name).toBe('string');
    expect(image.width).toBeGreaterThan(0);
    expect(image.height).toBeGreaterThan(0);
  }
  const categoryIds = new Set<number>(coco.categories.map((category: any) => category.id));
  expect(categoryIds.size).toBe(coco.categories.length);
  for (const category of coco.categories) expect(typeof category.name).toBe('string');
  const annotationIds = new Set<number>();
  for (const annotation of coco.annotations) {
    expect(Number.isInteger(annotation.id) && !annotationIds.has(annotation.id)).toBe(true);
    annotationIds.add(annotation.id);
    expect(imageIds.has(annotation.image_id)).toBe(true);
    expect(categoryIds.has(annotation.category_id)).toBe(true);
    expect(annotation.bbox).toHaveLength(4);
    for (const n of annotation.bbox) expect(Number.isFinite(n)).toBe(true);
    expect(annotation.bbox[2]).toBeGreaterThanOrEqual(0);
    expect(annotation.bbox[3]).toBeGreaterThanOrEqual(0);
    expect([0, 1]).toContain(annotation.iscrowd);
    expect(typeof annotation.area).toBe('number');
    expect(Array.isArray(annotation.segmentation)).toBe(true);
    for (const polygon of annotation.segmentation) {
      expect(polygon.length % 2).toBe(0);
      expect(polygon.length).toBeGreaterThanOrEqual(6);
    }
  }
}

describe.each(TEST_STORES)('datasets on %s', (store) => {
  let server: TestServer;
  let ada: { id: string; token: string };
  let bob: { id: string; token: string };
  const call = (token: string, method: string, path: string, body?: unknown) =>
    server.request(method, path, { token, ...(body !== undefined ? { body } : {}) });

  beforeAll(async () => {
    ({ server, ada, bob } = await startTwoUserServer({ store, gcIntervalMs: 0 }));
  });
  afterAll(() => server.close());

  async function pictures(token: string, count: number, prefix: string, seed = 0): Promise<any[]> {
    const form = new FormData();
    for (let i = 0; i < count; i++) {
      form.append('file', new Blob([new Uint8Array(await picture(64 + i, 48, seed + i))]), `${prefix}${i}.jpg`);
    }
    const response = await fetch(`${server.url}/assets/upload`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: form,
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as { data: any[] }).data;
  }

  async function datasetWithVersion(token: string, name: string, assets: string[]) {
    const dataset = await call(token, 'POST', '/datasets', { name, description: 'test' });
    expect(dataset.status).toBe(201);
    const version = await call(token, 'POST', '/dataset-versions', {
      datasetId: dataset.body._id,
      name: 'first',
      assets,
    });
    expect(version.status).toBe(201);
    return { dataset: dataset.body, version: version.body };
  }

  it('versions hold pictures, labels and reviewed annotations; derived versions copy them', async () => {
    const assets = await pictures(ada.token, 3, 'street');
    const { dataset, version } = await datasetWithVersion(
      ada.token,
      'streets',
      assets.map((a) => a._id),
    );
    expect(version).toMatchObject({ assetCount: 3, published: false, parentId: null });
    const duplicate = await call(ada.token, 'POST', '/datasets', { name: 'streets' });
    expect(duplicate.status).toBe(409);
    expect((await call(ada.token, 'POST', '/datasets', { name: 'a/b' })).status).toBe(400);

    const labels = await call(ada.token, 'POST', '/dataset-labels', [
      { versionId: version._id, name: 'car', type: 'rectangle' },
      { versionId: version._id, name: 'road', type: 'polygon' },
      { versionId: version._id, name: 'sign', type: 'point' },
      { versionId: version._id, name: 'lane', type: 'line' },
      { versionId: version._id, name: 'night', type: 'classification' },
    ]);
    expect(labels.status).toBe(201);
    const label = Object.fromEntries(labels.body.map((l: any) => [l.name, l._id]));
    expect(
      (await call(ada.token, 'POST', '/dataset-labels', { versionId: version._id, name: 'x', type: 'circle' })).status,
    ).toBe(400);

    const [a0, a1] = assets;
    const created = await call(ada.token, 'POST', '/annotations', [
      {
        versionId: version._id,
        assetId: a0._id,
        labelId: label.car,
        shape: { type: 'rectangle', x: 1, y: 2, width: 10, height: 5 },
      },
      {
        versionId: version._id,
        assetId: a0._id,
        labelId: label.road,
        shape: {
          type: 'polygon',
          points: [
            [0, 0],
            [10, 0],
            [10, 10],
          ],
        },
      },
      {
        versionId: version._id,
        assetId: a1._id,
        labelId: label.sign,
        shape: { type: 'point', x: 3, y: 4 },
        status: 'accepted',
      },
      {
        versionId: version._id,
        assetId: a1._id,
        labelId: label.lane,
        shape: {
          type: 'line',
          points: [
            [0, 0],
            [5, 5],
          ],
        },
      },
      {
        versionId: version._id,
        assetId: a1._id,
        labelId: label.night,
        shape: { type: 'classification' },
        status: 'rejected',
      },
    ]);
    expect(created.status).toBe(201);
    expect(created.body.map((a: any) => a.status)).toEqual(['pending', 'pending', 'accepted', 'pending', 'rejected']);

    // Shapes must fit their label, pictures must be in the version.
    const wrongShape = await call(ada.token, 'POST', '/annotations', {
      versionId: version._id,
      assetId: a0._id,
      labelId: label.car,
      shape: { type: 'point', x: 1, y: 1 },
    });
    expect(wrongShape.status).toBe(400);
    expect(wrongShape.body.message).toMatch(/drawn as a rectangle/);
    const notNumbers = await call(ada.token, 'POST', '/annotations', {
      versionId: version._id,
      assetId: a0._id,
      labelId: label.car,
      shape: { type: 'rectangle', x: 'a', y: 1, width: 1, height: 1 },
    });
    expect(notNumbers.status).toBe(400);
    const outsider = (await pictures(ada.token, 1, 'outside', 40))[0];
    const notMember = await call(ada.token, 'POST', '/annotations', {
      versionId: version._id,
      assetId: outsider._id,
      labelId: label.car,
      shape: { type: 'rectangle', x: 0, y: 0, width: 1, height: 1 },
    });
    expect(notMember.status).toBe(400);

    const review = await call(ada.token, 'PATCH', `/annotations?versionId=${version._id}&labelId=${label.car}`, {
      status: 'accepted',
    });
    expect(review.body).toHaveLength(1);
    const accepted = await call(ada.token, 'GET', `/annotations?versionId=${version._id}&status=accepted`);
    expect(accepted.body.total).toBe(2);
    expect((await call(bob.token, 'GET', `/annotations?versionId=${version._id}`)).status).toBe(404);

    // A new version derives from the latest by default, copying everything.
    const second = await call(ada.token, 'POST', '/dataset-versions', { datasetId: dataset._id, name: 'second' });
    expect(second.body).toMatchObject({ parentId: version._id, assetCount: 3 });
    const copied = await call(ada.token, 'GET', `/annotations?versionId=${second.body._id}&$limit=100`);
    expect(copied.body.total).toBe(5);
    const copiedLabels = await call(ada.token, 'GET', `/dataset-labels?versionId=${second.body._id}`);
    expect(copiedLabels.body.total).toBe(5);
    const copiedLabelIds = new Set(copiedLabels.body.data.map((l: any) => l._id));
    expect(copied.body.data.every((a: any) => copiedLabelIds.has(a.labelId))).toBe(true);
    const empty = await call(ada.token, 'POST', '/dataset-versions', {
      datasetId: dataset._id,
      name: 'empty',
      from: null,
    });
    expect(empty.body.assetCount).toBe(0);
    const members = await call(ada.token, 'GET', `/dataset-members?versionId=${second.body._id}`);
    expect(members.body.data.map((m: any) => m.assetId).sort()).toEqual(assets.map((a) => a._id).sort());

    // Removing a picture from a draft version drops its annotations there.
    const removed = await call(ada.token, 'DELETE', `/dataset-members?versionId=${second.body._id}&assetId=${a1._id}`);
    expect(removed.body).toEqual({ removed: 1, assetCount: 2 });
    expect((await call(ada.token, 'GET', `/annotations?versionId=${second.body._id}`)).body.total).toBe(2);
  });

  it('published versions never change and protect their pictures from deletion', async () => {
    const assets = await pictures(ada.token, 2, 'frozen', 80);
    const { dataset, version } = await datasetWithVersion(
      ada.token,
      'frozen',
      assets.map((a) => a._id),
    );
    const label = (
      await call(ada.token, 'POST', '/dataset-labels', { versionId: version._id, name: 'car', type: 'rectangle' })
    ).body;
    const published = await call(ada.token, 'PATCH', `/dataset-versions/${version._id}`, { published: true });
    expect(published.body).toMatchObject({ published: true, publishedAt: expect.any(String) });

    const attempts = [
      await call(ada.token, 'POST', '/dataset-members', { versionId: version._id, assetIds: [assets[0]._id] }),
      await call(ada.token, 'POST', '/dataset-labels', { versionId: version._id, name: 'bus', type: 'rectangle' }),
      await call(ada.token, 'POST', '/annotations', {
        versionId: version._id,
        assetId: assets[0]._id,
        labelId: label._id,
        shape: { type: 'rectangle', x: 0, y: 0, width: 1, height: 1 },
      }),
      await call(ada.token, 'PATCH', `/dataset-versions/${version._id}`, { description: 'changed' }),
      await call(ada.token, 'DELETE', `/dataset-versions/${version._id}`),
      await call(ada.token, 'DELETE', `/dataset-members?versionId=${version._id}`),
    ];
    expect(attempts.map((attempt) => attempt.status)).toEqual([409, 409, 409, 409, 409, 409]);
    expect(attempts[0]?.body.message).toMatch(/published and cannot change/);

    const refused = await call(ada.token, 'DELETE', `/assets/${assets[0]._id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.message).toMatch(/frozen0\.jpg.*published version 'first' of dataset 'frozen'/);
    const many = await call(ada.token, 'DELETE', '/assets?tags[$in][]=none&filename[$in][]=frozen1.jpg');
    expect(many.status).toBe(200);
    expect(many.body).toEqual([]);
    const byName = await call(ada.token, 'DELETE', '/assets?filename=frozen1.jpg');
    expect(byName.status).toBe(409);
    expect((await call(ada.token, 'GET', `/assets/${assets[0]._id}`)).status).toBe(200);

    // Bob cannot change Ada's dataset, nor see it until it is public; then he reads its pictures.
    expect((await call(bob.token, 'GET', `/dataset-versions/${version._id}`)).status).toBe(404);
    await call(ada.token, 'PATCH', `/datasets/${dataset._id}`, { public: true });
    expect((await call(bob.token, 'GET', `/dataset-versions/${version._id}`)).status).toBe(200);
    const forbidden = await call(bob.token, 'POST', '/dataset-versions', { datasetId: dataset._id, name: 'mine' });
    expect(forbidden.status).toBe(403);
    const file = await fetch(`${server.url}/assets/${assets[0]._id}/file?version=${version._id}`, {
      headers: { authorization: `Bearer ${bob.token}` },
    });
    expect(file.status).toBe(200);
    const without = await fetch(`${server.url}/assets/${assets[0]._id}/file`, {
      headers: { authorization: `Bearer ${bob.token}` },
    });
    expect(without.status).toBe(404);

    // Deleting the dataset frees the pictures.
    expect((await call(ada.token, 'DELETE', `/datasets/${dataset._id}`)).status).toBe(200);
    expect((await call(ada.token, 'DELETE', `/assets/${assets[0]._id}`)).status).toBe(200);
  });

  it('exports valid COCO (all or accepted) that imports back to the same annotations', async () => {
    const assets = await pictures(ada.token, 3, 'coco', 120);
    const { version } = await datasetWithVersion(
      ada.token,
      'coco-source',
      assets.map((a) => a._id),
    );
    const labels = (
      await call(ada.token, 'POST', '/dataset-labels', [
        { versionId: version._id, name: 'car', type: 'rectangle' },
        { versionId: version._id, name: 'road', type: 'polygon' },
        { versionId: version._id, name: 'sign', type: 'point' },
      ])
    ).body;
    const [car, road, sign] = labels.map((l: any) => l._id);
    await call(ada.token, 'POST', '/annotations', [
      {
        versionId: version._id,
        assetId: assets[0]._id,
        labelId: car,
        shape: { type: 'rectangle', x: 2, y: 3, width: 20, height: 10 },
        status: 'accepted',
      },
      {
        versionId: version._id,
        assetId: assets[0]._id,
        labelId: road,
        shape: {
          type: 'polygon',
          points: [
            [0, 0],
            [40, 0],
            [40, 20],
            [0, 20],
          ],
        },
      },
      {
        versionId: version._id,
        assetId: assets[1]._id,
        labelId: sign,
        shape: { type: 'point', x: 7, y: 8 },
        status: 'accepted',
      },
    ]);
    const all = await call(ada.token, 'GET', `/coco-exports/${version._id}`);
    expect(all.status).toBe(200);
    expectValidCoco(all.body);
    expect(all.body.images.map((i: any) => [i.file_name, i.width, i.height]).sort()).toEqual(
      assets.map((a) => [a.filename, a.width, a.height]).sort(),
    );
    expect(all.body.categories.map((c: any) => c.name)).toEqual(['car', 'road', 'sign']);
    const polygon = all.body.annotations.find((a: any) => a.segmentation.length > 0);
    expect(polygon).toMatchObject({
      bbox: [0, 0, 40, 20],
      area: 800,
      segmentation: [[0, 0, 40, 0, 40, 20, 0, 20]],
      iscrowd: 0,
    });
    const box = all.body.annotations.find((a: any) => a.category_id === 1);
    expect(box).toMatchObject({ bbox: [2, 3, 20, 10], area: 200 });
    const accepted = await call(ada.token, 'GET', `/coco-exports/${version._id}?status=accepted`);
    expectValidCoco(accepted.body);
    expect(accepted.body.annotations).toHaveLength(2);

    // Into a fresh version of another dataset: pictures matched by name, labels created.
    const target = await datasetWithVersion(ada.token, 'coco-target', []);
    const imported = await call(ada.token, 'POST', '/coco-imports', {
      versionId: target.version._id,
      coco: all.body,
      status: 'pending',
    });
    expect(imported.status).toBe(201);
    expect(imported.body).toMatchObject({ images: 3, matched: 3, unmatched: [], labelsCreated: 3, annotations: 3 });
    const again = await call(ada.token, 'GET', `/coco-exports/${target.version._id}`);
    const strip = (coco: any) => coco.annotations.map(({ id, larder_status, ...rest }: any) => rest);
    expect(strip(again.body)).toEqual(strip(all.body));
    expect(again.body.categories).toEqual(all.body.categories);

    const unmatched = await call(ada.token, 'POST', '/coco-imports', {
      versionId: target.version._id,
      coco: { images: [{ id: 1, file_name: 'missing.jpg', width: 1, height: 1 }], annotations: [], categories: [] },
    });
    expect(unmatched.body).toMatchObject({ matched: 0, unmatched: ['missing.jpg'] });
    const invalid = await call(ada.token, 'POST', '/coco-imports', {
      versionId: target.version._id,
      coco: {
        images: [{ id: 1, file_name: 'a.jpg' }],
        annotations: [{ id: 1, image_id: 1, category_id: 9, bbox: [0, 0, 1] }],
        categories: [],
      },
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body.message).toMatch(/annotations\[0\]\.bbox/);
    const foreign = await call(bob.token, 'POST', '/coco-imports', { versionId: target.version._id, coco: all.body });
    expect(foreign.status).toBe(404);
  });

  it('holds 100,000 pictures in a version, derives and pages it', async () => {
    const ids: string[] = [];
    const started = Date.now();
    for (let batch = 0; batch < 100; batch++) {
      const docs = Array.from({ length: 1000 }, (_, i) => ({ filename: `f${batch}-${i}.jpg`, width: 10, height: 10 }));
      const created = await call(ada.token, 'POST', '/assets', docs);
      expect(created.status).toBe(201);
      ids.push(...created.body.map((doc: any) => doc._id));
    }
    const assetsCreated = Date.now();
    const dataset = (await call(ada.token, 'POST', '/datasets', { name: 'big' })).body;
    const version = (await call(ada.token, 'POST', '/dataset-versions', { datasetId: dataset._id, name: 'all' })).body;
    for (let start = 0; start < ids.length; start += 50_000) {
      const added = await call(ada.token, 'POST', '/dataset-members', {
        versionId: version._id,
        assetIds: ids.slice(start, start + 50_000),
      });
      expect(added.status).toBe(201);
    }
    const membersAdded = Date.now();
    const again = await call(ada.token, 'POST', '/dataset-members', {
      versionId: version._id,
      assetIds: ids.slice(0, 10_000),
    });
    expect(again.body).toEqual({ added: 0, assetCount: 100_000 });
    const derived = await call(ada.token, 'POST', '/dataset-versions', { datasetId: dataset._id, name: 'copy' });
    expect(derived.body.assetCount).toBe(100_000);
    const derivedAt = Date.now();
    const page = await call(
      ada.token,
      'GET',
      `/dataset-members?versionId=${derived.body._id}&$limit=10000&$skip=90000`,
    );
    expect(page.body.total).toBe(100_000);
    expect(page.body.data).toHaveLength(10_000);
    const pagedAt = Date.now();
    expect((await call(ada.token, 'DELETE', `/dataset-versions/${derived.body._id}`)).status).toBe(200);
    expect((await call(ada.token, 'GET', `/dataset-members?versionId=${version._id}&$limit=0`)).body.total).toBe(
      100_000,
    );
    console.log(
      `[${store}] 100k assets created in ${assetsCreated - started} ms; members added in ${membersAdded - assetsCreated} ms; ` +
        `version derived in ${derivedAt - membersAdded} ms; one 10k page in ${pagedAt - derivedAt} ms; version deleted in ${Date.now() - pagedAt} ms`,
    );
  }, 240_000);
});
