/**
 * The datalake SDK against a real server: pictures uploaded from a folder (a second upload
 * sends no bytes), fetched by tags reproducibly, tagged; datasets created, derived,
 * labelled; pushDataset with COCO and dlAnnotations; downloads that verify and resume.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../server/test/support/test-server.js';
import { Datalake, Experiments, LarderError, seededSample } from '../src/index.js';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** `count` PNGs named `<prefix><i>.png`; `first` shifts their sizes, so that other calls make other bytes. */
async function writePictures(folder: string, count: number, prefix: string, first = 0): Promise<Buffer[]> {
  await mkdir(folder, { recursive: true });
  const all: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const bytes = await sharp({
      create: { width: 40 + first + i, height: 30, channels: 3, background: { r: i * 20, g: 60, b: 9 } },
    })
      .png()
      .toBuffer();
    await writeFile(join(folder, `${prefix}${i}.png`), bytes);
    all.push(bytes);
  }
  return all;
}

describe('SDK datalake', () => {
  let server: TestServer;
  let dir: string;
  let lake: Datalake;
  let bobLake: Datalake;
  let adaToken: string;

  beforeAll(async () => {
    server = await startTestServer({ gcIntervalMs: 0 });
    dir = await mkdtemp(join(tmpdir(), 'larder-sdk-datalake-'));
    adaToken = (await server.createUser('ada@example.org')).token;
    lake = new Datalake({ url: server.url, token: adaToken });
    bobLake = new Datalake({ url: server.url, token: (await server.createUser('bob@example.org')).token });
  });
  afterAll(async () => {
    await lake.close();
    await bobLake.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('uploads a folder once, fetches a reproducible fraction by tags, tags in bulk', async () => {
    const folder = join(dir, 'drone');
    const bytes = await writePictures(folder, 10, 'img');
    const progress: number[] = [];
    const pictures = await lake.pictures.upload(folder, { tags: ['drone'], onProgress: (p) => progress.push(p.done) });
    expect(pictures).toHaveLength(10);
    expect(progress.at(-1)).toBe(10);
    expect(pictures.map((p) => p.sha256).sort()).toEqual(bytes.map(sha256).sort());
    expect(pictures[0]).toMatchObject({ source: 'sdk', tags: ['drone'], mime: 'image/png', height: 30 });

    // A second upload of the same folder sends no bytes and creates no pictures.
    const sent: string[] = [];
    const counting: typeof fetch = (input, init) => {
      if (init?.method === 'PUT' || init?.method === 'POST')
        sent.push(`${init.method} ${new URL(String(input)).pathname}`);
      return fetch(input, init);
    };
    const again = new Datalake({ url: server.url, token: adaToken, fetch: counting });
    const repeat = await again.pictures.upload(folder, { tags: ['coco'] });
    await again.close();
    expect(sent.filter((call) => call.includes('/blobs'))).toEqual([]);
    expect(repeat.map((p) => p._id).sort()).toEqual(pictures.map((p) => p._id).sort());
    expect(repeat[0]?.tags).toEqual(['drone', 'coco']);
    expect(await lake.pictures.list()).toHaveLength(10);

    const half = await lake.pictures.fetch({ quantity: 0.5, tags: ['drone', 'coco'], seed: 42 });
    expect(half).toHaveLength(5);
    const same = await lake.pictures.fetch({ quantity: 0.5, tags: ['drone', 'coco'], seed: 42 });
    expect(same.map((p) => p._id)).toEqual(half.map((p) => p._id));
    expect(lake.pictures.status()).toEqual({ selected: 5 });
    // The chosen pictures are whole records.
    expect(half[0]).toMatchObject({ mime: 'image/png', tags: ['drone', 'coco'] });
    expect(await lake.pictures.addTags(['half'])).toBe(5);
    expect(await lake.pictures.list({ tags: ['half'] })).toHaveLength(5);
    expect(await lake.pictures.removeTags(['half'], half.slice(0, 2))).toBe(2);
    expect(await lake.pictures.list({ tags: ['half'] })).toHaveLength(3);
    expect(await lake.pictures.list({ anyTags: ['half', 'nothing'] })).toHaveLength(3);
    // A quantity of 1 chooses every match.
    const every = await lake.pictures.fetch({ tags: ['drone'], seed: 1 });
    expect(every.map((p) => p._id)).toEqual(pictures.map((p) => p._id).sort());
    await expect(lake.pictures.fetch({ quantity: 2 })).rejects.toBeInstanceOf(LarderError);
    expect(seededSample([1, 2, 3, 4], 0.5, 1)).toEqual(seededSample([1, 2, 3, 4], 0.5, 1));
  });

  it('uploads the files of nested folders and links, skipping hidden entries', async () => {
    const folder = join(dir, 'nested');
    const top = await writePictures(folder, 2, 'top', 100);
    const inner = await writePictures(join(folder, 'inner'), 2, 'in', 110);
    await writePictures(folder, 1, '.hidden', 130);
    await writePictures(join(folder, '.cache'), 1, 'skipped', 140);
    const elsewhere = join(dir, 'elsewhere');
    const linked = await writePictures(elsewhere, 1, 'linked', 120);
    await symlink(join(elsewhere, 'linked0.png'), join(folder, 'link.png'));
    await symlink(join(dir, 'missing.png'), join(dir, 'broken.png'));

    const pictures = await lake.pictures.upload(folder, { tags: ['nested'] });
    expect(pictures.map((p) => p.filename).sort()).toEqual(['in0.png', 'in1.png', 'link.png', 'top0.png', 'top1.png']);
    expect(pictures.map((p) => p.sha256).sort()).toEqual([...top, ...inner, ...linked].map(sha256).sort());
    await expect(lake.pictures.upload(join(dir, 'broken.png'))).rejects.toThrow(/No file or folder/);
  });

  it('creates, derives, labels, publishes and downloads datasets', async () => {
    const pictures = await lake.pictures.fetch({ tags: ['drone'] });
    const created = await lake.datasets.create({
      name: 'aerial',
      description: 'drone shots',
      pictures: pictures.slice(0, 6),
    });
    expect(created).toMatchObject({ name: 'aerial', version: 'first', size: 6, private: true, published: false });
    await lake.datasets.createLabels({ name: 'car', annType: 'rectangle' });
    const second = await lake.datasets.newVersion({ name: 'aerial', version: 'second', pictures: pictures.slice(6) });
    expect(second.size).toBe(10);
    expect(await lake.datasets.addData({ pictures: pictures.slice(0, 2) })).toBe(0);
    await lake.datasets.publish({ name: 'aerial', version: 'first' });
    await expect(lake.datasets.addData({ name: 'aerial', version: 'first', pictures })).rejects.toThrow(/published/);
    await expect(lake.pictures.delete([pictures[0] as never])).rejects.toThrow(/published version 'first'/);
    const listed = await lake.datasets.list();
    expect(listed.map((d) => `${d.name}/${d.version}:${d.size}`)).toEqual(['aerial/first:6', 'aerial/second:10']);
    expect((await lake.datasets.fetch({ name: 'aerial' })).version).toBe('second');

    const folder = join(dir, 'download');
    const progress: number[] = [];
    const report = await lake.datasets.download({
      dataset: 'aerial/first',
      folder,
      onProgress: (p) => progress.push(p.done),
    });
    expect(report).toMatchObject({ files: 6, skipped: 0 });
    // Every byte counted, though the files arrive in parallel.
    expect(report.bytes).toBe(pictures.slice(0, 6).reduce((sum, picture) => sum + picture.size, 0));
    expect(progress.at(-1)).toBe(6);
    const names = (await readdir(folder)).sort();
    expect(names).toHaveLength(6);
    for (const name of names) {
      const picture = pictures.find((p) => p.filename === name);
      expect(sha256(await readFile(join(folder, name)))).toBe(picture?.sha256);
    }
    // A second run keeps the verified files; a damaged file is fetched again.
    await writeFile(join(folder, names[0] as string), 'damaged');
    const resumed = await lake.datasets.download({ dataset: 'aerial/first', folder });
    expect(resumed).toMatchObject({ files: 6, skipped: 5 });
    expect(sha256(await readFile(join(folder, names[0] as string)))).toBe(
      pictures.find((p) => p.filename === names[0])?.sha256,
    );

    // Bob cannot see the private dataset.
    await expect(bobLake.datasets.download({ dataset: 'aerial/first', folder: join(dir, 'bob') })).rejects.toThrow(
      /No dataset named/,
    );
    await expect(lake.datasets.fetch({ name: 'nope' })).rejects.toThrow(/No dataset named 'nope'/);
  });

  it('pushes a dataset with COCO annotations and downloads them back, all or accepted', async () => {
    const folder = join(dir, 'push');
    await writePictures(folder, 3, 'shot');
    const coco = {
      images: [0, 1, 2].map((i) => ({ id: i + 1, file_name: `shot${i}.png`, width: 40 + i, height: 30 })),
      categories: [{ id: 7, name: 'boat', supercategory: '' }],
      annotations: [
        { id: 1, image_id: 1, category_id: 7, bbox: [1, 2, 10, 5], segmentation: [], area: 50, iscrowd: 0 },
        { id: 2, image_id: 3, category_id: 7, bbox: [0, 0, 4, 4], segmentation: [], area: 16, iscrowd: 0 },
      ],
    };
    const annotationsPath = join(dir, 'coco.json');
    await writeFile(annotationsPath, JSON.stringify(coco));
    const pushed = await lake.pushDataset({
      name: 'boats',
      tags: ['harbour'],
      imgdir: folder,
      annotationsPath,
      format: 'COCO',
    });
    expect(pushed).toMatchObject({ name: 'boats', size: 3, import: { matched: 3, annotations: 2, labelsCreated: 1 } });
    const all = await lake.dlAnnotations('all', { dataset: 'boats/first' });
    expect(all.annotations.map((a) => a.bbox)).toEqual([
      [1, 2, 10, 5],
      [0, 0, 4, 4],
    ]);
    expect(all.categories.map((c) => c.name)).toEqual(['boat']);

    // Picsellia's experiment.dl_annotations: the annotations of the experiment's dataset.
    const experiment = await new Experiments(lake.store, 'boat-detection').create({
      name: 'yolo-1',
      dataset: 'boats/first',
    });
    const fromExperiment = await experiment.dlAnnotations('all');
    expect(fromExperiment.annotations.map((a) => a.bbox)).toEqual(all.annotations.map((a) => a.bbox));
    expect(experiment.dictAnnotations).toBe(fromExperiment);
    const bare = await new Experiments(lake.store, 'boat-detection').create({ name: 'no-dataset' });
    await expect(bare.dlAnnotations()).rejects.toThrow(/has no dataset: create it with \{ dataset/);

    const onlyAnnotations = await lake.pushDataset({
      name: 'boats-again',
      annotationsPath,
      onlyAnnotations: true,
      status: 'pending',
    });
    expect(onlyAnnotations.import).toMatchObject({ matched: 3, annotations: 2 });
    expect((await lake.dlAnnotations('accepted')).annotations).toHaveLength(0);
    expect((await lake.dlAnnotations('all')).annotations).toHaveLength(2);
    await expect(lake.pushDataset({ name: 'x', format: 'legacy' })).rejects.toThrow(/convert them to COCO/);

    // Every problem of a file at once, not the first: one fix-and-retry mends them all.
    const broken = {
      images: [{ id: 1, file_name: 'shot0.png' }, { id: 'two' }],
      categories: [{ id: 7, name: 'a/b' }],
      annotations: [
        { id: 1, image_id: 1, category_id: 7, bbox: [1, 2, 3] },
        { id: 2, image_id: 9, category_id: 8, bbox: [0, 0, 1, 1] },
      ],
    };
    const refused = await lake.importCoco({ dataset: 'boats/first', coco: broken }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(LarderError);
    const { message, errors } = refused as LarderError;
    expect(message).toMatch(/^Not valid COCO \(7 problems\): /);
    expect(errors).toEqual([
      'images[1].file_name must be a string',
      'images[1].id must be an integer',
      'categories[0].name must be at most 100 characters, without "/"',
      'annotations[0].bbox must be [x, y, width, height]',
      'annotations[0].category_id names no category',
      'annotations[1].image_id names no image',
      'annotations[1].category_id names no category',
    ]);
    expect((await lake.dlAnnotations('all', { dataset: 'boats/first' })).annotations).toHaveLength(2);
  });
});
