/**
 * The datalake over real HTTP: pictures stored once with their size, type and thumbnail;
 * filters and bulk tags; Marcelle's schemaless asset documents still work; datasets with
 * versions, labels, annotations; published versions never change and protect their pictures.
 */
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, startTwoUserServer, TEST_STORES, type TestServer } from './support/test-server.js';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

function picture(width: number, height: number, seed = 0): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: seed % 256, g: (seed * 7) % 256, b: 90 } } })
    .png()
    .toBuffer();
}

describe.each(TEST_STORES)('datalake on %s', (store) => {
  let server: TestServer;
  let ada: { id: string; token: string };
  let bob: { id: string; token: string };

  beforeAll(async () => {
    ({ server, ada, bob } = await startTwoUserServer({ store, gcIntervalMs: 0 }));
  });
  afterAll(() => server.close());

  async function uploadForm(
    token: string,
    files: { name: string; bytes: Buffer }[],
    fields: Record<string, string[]> = {},
  ) {
    const form = new FormData();
    for (const [name, values] of Object.entries(fields)) for (const value of values) form.append(name, value);
    for (const file of files) form.append('file', new Blob([new Uint8Array(file.bytes)]), file.name);
    const response = await fetch(`${server.url}/assets/upload`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: form,
    });
    return { status: response.status, body: (await response.json()) as any };
  }

  async function uploadBlob(token: string, bytes: Buffer): Promise<string> {
    const response = await fetch(`${server.url}/blobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: new Uint8Array(bytes),
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as { sha256: string }).sha256;
  }

  it('stores a picture once, with its size, type, tags and a thumbnail', async () => {
    const bytes = await picture(640, 480, 1);
    const first = await uploadForm(ada.token, [{ name: 'cat.png', bytes }], {
      tags: ['cat,outdoor'],
      source: ['camera'],
    });
    expect(first.status).toBe(201);
    const [asset] = first.body.data;
    expect(asset).toMatchObject({
      filename: 'cat.png',
      mime: 'image/png',
      width: 640,
      height: 480,
      size: bytes.length,
      sha256: sha256(bytes),
      tags: ['cat', 'outdoor'],
      source: 'camera',
      userId: ada.id,
    });
    expect(asset.createdAt).toEqual(expect.any(String));

    // The same bytes again (another name, another tag): the same asset, tags merged.
    const again = await uploadForm(ada.token, [{ name: 'copy.png', bytes }], { tags: ['pet'] });
    expect(again.body.data[0]._id).toBe(asset._id);
    expect(again.body.data[0].tags).toEqual(['cat', 'outdoor', 'pet']);
    const count = await server.request('GET', `/assets?sha256=${asset.sha256}&$limit=0`, { token: ada.token });
    expect(count.body.total).toBe(1);

    const thumbnail = await fetch(`${server.url}/assets/${asset._id}/thumbnail`, {
      headers: { authorization: `Bearer ${ada.token}` },
    });
    expect(thumbnail.status).toBe(200);
    expect(thumbnail.headers.get('content-type')).toBe('image/webp');
    const meta = await sharp(Buffer.from(await thumbnail.arrayBuffer())).metadata();
    expect(meta.format).toBe('webp');
    expect(Math.max(meta.width ?? 0, meta.height ?? 0)).toBe(256);

    const file = await fetch(`${server.url}/assets/${asset._id}/file`, {
      headers: { authorization: `Bearer ${ada.token}` },
    });
    expect(file.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await file.arrayBuffer()).equals(bytes)).toBe(true);
    const range = await fetch(`${server.url}/assets/${asset._id}/file`, {
      headers: { authorization: `Bearer ${ada.token}`, range: 'bytes=1-3' },
    });
    expect(range.status).toBe(206);
    expect(Buffer.from(await range.arrayBuffer()).equals(bytes.subarray(1, 4))).toBe(true);

    // Bob can neither read it nor learn that it exists.
    const hidden = await fetch(`${server.url}/assets/${asset._id}/file`, {
      headers: { authorization: `Bearer ${bob.token}` },
    });
    expect(hidden.status).toBe(404);
    expect((await server.request('GET', `/assets/${asset._id}`, { token: bob.token })).status).toBe(404);
  });

  it('creates assets from uploaded blobs, refusing hashes the caller never uploaded', async () => {
    const bytes = await picture(30, 20, 2);
    const hash = await uploadBlob(ada.token, bytes);
    const created = await server.request('POST', '/assets', {
      token: ada.token,
      body: { sha256: hash, filename: '../../etc/passwd\u0007.png', tags: ['x'], mime: 'text/html', width: 1 },
    });
    expect(created.status).toBe(201);
    // The name is cleaned to its last segment; the type and size come from the bytes.
    expect(created.body).toMatchObject({ filename: 'passwd.png', mime: 'image/png', width: 30, height: 20 });

    const stolen = await server.request('POST', '/assets', {
      token: bob.token,
      body: { sha256: hash, filename: 'mine.png' },
    });
    expect(stolen.status).toBe(404);
    expect(stolen.body.message).toMatch(/upload the file first/);
    const bad = await server.request('POST', '/assets', {
      token: ada.token,
      body: { sha256: 'nope', filename: 'a.png' },
    });
    expect(bad.status).toBe(400);
    const tags = await server.request('POST', '/assets', {
      token: ada.token,
      body: { sha256: hash, filename: 'a.png', tags: 5 },
    });
    expect(tags.status).toBe(400);
    const changeFile = await server.request('PATCH', `/assets/${created.body._id}`, {
      token: ada.token,
      body: { sha256: sha256(Buffer.from('other')) },
    });
    expect(changeFile.status).toBe(400);
    const forged = await server.request('PATCH', `/assets/${created.body._id}`, {
      token: ada.token,
      body: { width: 9999 },
    });
    expect(forged.status).toBe(200);
    expect(forged.body.width).toBe(30);

    const text = Buffer.from('{"not": "a picture"}');
    const data = await server.request('POST', '/assets', {
      token: ada.token,
      body: { sha256: await uploadBlob(ada.token, text), filename: 'meta.json' },
    });
    expect(data.body).toMatchObject({ mime: 'application/json', size: text.length });
    expect(data.body.width).toBeUndefined();
    expect(data.body.thumbnail).toBeUndefined();
  });

  it("keeps Marcelle's schemaless asset documents working", async () => {
    const doc = { filename: 'model.json', extension: 'json', mime: 'application/json', url: '/files/abc' };
    const created = await server.request('POST', '/assets', { token: ada.token, body: doc });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject(doc);
    const patched = await server.request('PATCH', `/assets/${created.body._id}`, {
      token: ada.token,
      body: { url: '/x' },
    });
    expect(patched.body.url).toBe('/x');
    expect((await server.request('DELETE', `/assets/${created.body._id}`, { token: ada.token })).status).toBe(200);
  });

  it('filters by tags (all of, any of), name, size and date, pages, and tags in bulk', async () => {
    const carol = await server.createUser('carol@example.org');
    const files = await Promise.all(
      ['a', 'b', 'c', 'd', 'e'].map(async (name, index) => ({
        name: `${name}.png`,
        bytes: await picture(10 + index, 10, 50 + index),
      })),
    );
    await uploadForm(carol.token, files.slice(0, 2), { tags: ['drone', 'coco'] });
    await uploadForm(carol.token, files.slice(2, 4), { tags: ['drone'] });
    await uploadForm(carol.token, files.slice(4), { tags: ['street'] });
    const find = async (query: string) =>
      (await server.request('GET', `/assets?${query}`, { token: carol.token })).body;
    expect((await find('tags[$all][]=drone&tags[$all][]=coco')).total).toBe(2);
    expect((await find('tags[$in][]=coco&tags[$in][]=street')).total).toBe(3);
    expect((await find('tags=drone')).total).toBe(4);
    expect((await find('filename=c.png')).data.map((a: any) => a.filename)).toEqual(['c.png']);
    expect((await find('width[$gte]=13')).total).toBe(2);
    expect((await find(`createdAt[$gte]=${new Date(Date.now() - 60_000).toISOString()}`)).total).toBe(5);
    const page = await find('$limit=2&$skip=2&$sort[filename]=1');
    expect(page.data.map((a: any) => a.filename)).toEqual(['c.png', 'd.png']);
    expect(page.total).toBe(5);

    const bulk = await server.request('POST', '/asset-tags', {
      token: carol.token,
      body: { query: { tags: 'drone' }, add: ['aerial'], remove: ['coco'] },
    });
    expect(bulk.body).toEqual({ modified: 4 });
    expect((await find('tags=aerial')).total).toBe(4);
    expect((await find('tags=coco')).total).toBe(0);
    // Bulk tags touch only the caller's own assets.
    const foreign = await server.request('POST', '/asset-tags', {
      token: bob.token,
      body: { query: {}, add: ['mine'] },
    });
    expect(foreign.body.modified).toBe(0);
    const empty = await server.request('POST', '/asset-tags', { token: carol.token, body: { ids: [] } });
    expect(empty.status).toBe(400);
  });

  it("counts only what the caller may read: another user's tagged pictures are neither listed nor counted", async () => {
    const dave = await server.createUser('dave@example.org');
    const erin = await server.createUser('erin@example.org');
    const files = await Promise.all(
      [0, 1, 2, 3].map(async (i) => ({ name: `t${i}.png`, bytes: await picture(7, 7 + i, 90 + i) })),
    );
    const daves = await uploadForm(dave.token, files.slice(0, 3), { tags: ['secret-x', 'shared-y'] });
    await uploadForm(erin.token, files.slice(3), { tags: ['secret-x', 'shared-y'] });
    const find = async (token: string, query: string) =>
      (await server.request('GET', `/assets?${query}`, { token })).body;
    const allOf = 'tags[$all][]=secret-x&tags[$all][]=shared-y';
    expect((await find(dave.token, allOf)).total).toBe(3);
    const erins = await find(erin.token, allOf);
    expect(erins.total).toBe(1);
    expect(erins.data.map((a: any) => a.filename)).toEqual(['t3.png']);
    expect((await find(erin.token, `${allOf}&$limit=0`)).total).toBe(1);
    expect((await find(erin.token, 'tags[$in][]=secret-x&tags[$in][]=nothing')).total).toBe(1);
    expect((await find(erin.token, 'tags=secret-x&$limit=0')).total).toBe(1);
    // A picture its owner makes public is counted for everyone signed in.
    const shared = await server.request('PATCH', `/assets/${daves.body.data[0]._id}`, {
      token: dave.token,
      body: { public: true },
    });
    expect(shared.status).toBe(200);
    expect((await find(erin.token, allOf)).total).toBe(2);
  });

  it('refuses oversize uploads and bodies that are not multipart', async () => {
    const small = await startTestServer({ store, gcIntervalMs: 0, maxBlobBytes: 1000 });
    try {
      const user = await small.createUser('dee@example.org');
      const form = new FormData();
      form.append('file', new Blob([new Uint8Array(await picture(200, 200, 3))]), 'big.png');
      const response = await fetch(`${small.url}/assets/upload`, {
        method: 'POST',
        headers: { authorization: `Bearer ${user.token}` },
        body: form,
      });
      expect(response.status).toBe(413);
      expect((await small.request('GET', '/assets', { token: user.token })).body.total).toBe(0);
      const json = await small.request('POST', '/assets/upload', { token: user.token, body: { a: 1 } });
      expect(json.status).toBe(400);
      const anonymous = await fetch(`${small.url}/assets/upload`, { method: 'POST', body: form });
      expect(anonymous.status).toBe(401);
    } finally {
      await small.close();
    }
  });
});
