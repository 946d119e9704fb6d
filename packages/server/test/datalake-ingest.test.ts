/**
 * The datalake's bulk paths over real HTTP, with two users: many pictures per upload
 * (forms and hashes), each file failing alone; thumbnails made on first view and kept;
 * version archives that hand out exactly the files of a version its readers may read.
 */
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, s3Bucket } from './adversarial/support/adversarial-world.js';
import { startTestServer, type TestServer } from './support/test-server.js';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

function picture(width: number, height: number, seed: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: seed % 256, g: (seed * 7) % 256, b: 90 } } })
    .jpeg()
    .toBuffer();
}

/** The regular files of a ustar archive, by name. */
function untar(archive: Buffer): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  let at = 0;
  while (at + 512 <= archive.length) {
    const header = archive.subarray(at, at + 512);
    if (header.every((byte) => byte === 0)) break;
    const name = header.toString('utf8', 0, 100).replace(/\0.*$/s, '');
    const size = Number.parseInt(header.toString('ascii', 124, 136).replace(/\0.*$/, ''), 8);
    files.set(name, Buffer.from(archive.subarray(at + 512, at + 512 + size)));
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

describe.each(BACKENDS)('datalake bulk ingest and archives on %s', (backend) => {
  let server: TestServer;
  let ada: { id: string; token: string };
  let bob: { id: string; token: string };

  beforeAll(async () => {
    const onS3 = backend === 'postgres + s3';
    server = await startTestServer({
      gcIntervalMs: 0,
      maxBlobBytes: 100_000,
      ...(onS3 ? { store: 'postgres' as const, blobs: await s3Bucket() } : {}),
    });
    ada = await server.createUser('ada@example.org');
    bob = await server.createUser('bob@example.org');
  });
  afterAll(() => server.close());

  async function form(token: string, files: { name: string; bytes: Buffer }[], tags: string[] = []) {
    const body = new FormData();
    for (const tag of tags) body.append('tags', tag);
    for (const file of files) body.append('file', new Blob([new Uint8Array(file.bytes)]), file.name);
    const response = await fetch(`${server.url}/assets/upload`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body,
    });
    return { status: response.status, body: (await response.json()) as any };
  }

  const byHash = (token: string, body: unknown) => server.request('POST', '/assets/upload', { token, body });

  it('makes many pictures per form, sizes read, thumbnails made on first view and kept', async () => {
    const files = await Promise.all(
      Array.from({ length: 40 }, async (_, index) => ({
        name: `shot-${index}.jpg`,
        bytes: await picture(20 + index, 10 + index, index),
      })),
    );
    const upload = await form(ada.token, files, ['bulk']);
    expect(upload.status).toBe(201);
    expect(upload.body.failed).toEqual([]);
    expect(upload.body.data).toHaveLength(40);
    upload.body.data.forEach((asset: any, index: number) => {
      expect(asset).toMatchObject({
        filename: `shot-${index}.jpg`,
        sha256: sha256(files[index]?.bytes as Buffer),
        mime: 'image/jpeg',
        width: 20 + index,
        height: 10 + index,
        tags: ['bulk'],
      });
      // No picture is decoded at upload.
      expect(asset.thumbnail).toBeUndefined();
    });

    const first = upload.body.data[0];
    const view = () =>
      fetch(`${server.url}/assets/${first._id}/thumbnail`, { headers: { authorization: `Bearer ${ada.token}` } });
    const shown = await view();
    expect(shown.status).toBe(200);
    expect(shown.headers.get('content-type')).toBe('image/webp');
    const meta = await sharp(Buffer.from(await shown.arrayBuffer())).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 20, 10]);
    const stored = (await server.request('GET', `/assets/${first._id}`, { token: ada.token })).body;
    expect(stored.thumbnail.sha256).toBe(shown.headers.get('x-content-sha256'));
    // Kept: the second view serves the same blob, which the owner holds and Bob does not.
    expect((await view()).headers.get('x-content-sha256')).toBe(stored.thumbnail.sha256);
    const blob = (token: string) =>
      fetch(`${server.url}/blobs/${stored.thumbnail.sha256}`, {
        method: 'HEAD',
        headers: { authorization: `Bearer ${token}` },
      });
    expect((await blob(ada.token)).status).toBe(200);
    expect((await blob(bob.token)).status).toBe(404);
    const foreign = await fetch(`${server.url}/assets/${first._id}/thumbnail`, {
      headers: { authorization: `Bearer ${bob.token}` },
    });
    expect(foreign.status).toBe(404);
    // The thumbnail stays the server's: a client cannot name another.
    const patched = await server.request('PATCH', `/assets/${first._id}`, {
      token: ada.token,
      body: { thumbnail: { sha256: first.sha256, size: first.size } },
    });
    expect(patched.body.thumbnail?.sha256).toBe(stored.thumbnail.sha256);
  });

  it('reports each file that fails and keeps the others', async () => {
    const good = await picture(30, 30, 301);
    const tooLarge = Buffer.alloc(150_000, 7);
    const mixed = await form(ada.token, [
      { name: 'big.bin', bytes: tooLarge },
      { name: 'good.jpg', bytes: good },
    ]);
    expect(mixed.status).toBe(201);
    expect(mixed.body.data[0]).toBeNull();
    expect(mixed.body.data[1]).toMatchObject({ filename: 'good.jpg', width: 30 });
    expect(mixed.body.failed).toMatchObject([{ index: 0, filename: 'big.bin', error: { code: 413 } }]);
    // Only failures: the form is refused as its first file was, and nothing is made.
    const before = (await server.request('GET', '/assets?$limit=0', { token: ada.token })).body.total;
    const refused = await form(ada.token, [{ name: 'big.bin', bytes: tooLarge }]);
    expect(refused.status).toBe(413);
    expect((await server.request('GET', '/assets?$limit=0', { token: ada.token })).body.total).toBe(before);

    const hashed = await byHash(ada.token, {
      files: [
        { sha256: sha256(good), filename: 'again.jpg' },
        { sha256: 'not-a-hash', filename: 'x.jpg' },
        { sha256: sha256(good), filename: '..' },
        null,
        { sha256: sha256(Buffer.from('never uploaded')), filename: 'ghost.jpg' },
      ],
      tags: ['second'],
    });
    expect(hashed.status).toBe(201);
    expect(hashed.body.data[0]).toMatchObject({ _id: mixed.body.data[1]._id, tags: ['second'] });
    expect(hashed.body.data[0].filenames).toEqual(['good.jpg', 'again.jpg']);
    expect(hashed.body.failed.map((each: any) => [each.index, each.error.code])).toEqual([
      [1, 400],
      [2, 400],
      [3, 400],
      [4, 404],
    ]);
    for (const body of [{}, { files: 'x' }, { files: [] }, [1, 2]]) {
      expect((await byHash(ada.token, body)).status).toBe(400);
    }
    const tooMany = Array.from({ length: 1001 }, () => ({ sha256: sha256(good), filename: 'a.jpg' }));
    expect((await byHash(ada.token, { files: tooMany })).status).toBe(413);
    expect((await byHash('', { files: [{ sha256: sha256(good), filename: 'a.jpg' }] })).status).toBe(401);
  });

  it('tells nobody about bytes they did not upload, and the same bytes twice in a batch are one picture', async () => {
    const adas = await picture(12, 12, 401);
    await form(ada.token, [{ name: 'private.jpg', bytes: adas }]);
    const unknown = sha256(Buffer.from('nobody has these bytes'));
    const asked = await byHash(bob.token, {
      files: [
        { sha256: sha256(adas), filename: 'guess.jpg' },
        { sha256: unknown, filename: 'guess.jpg' },
      ],
    });
    // Ada's stored bytes answer exactly as bytes nobody has.
    expect(asked.body.data).toEqual([null, null]);
    expect(asked.body.failed[0].error.code).toBe(404);
    expect(asked.body.failed[1].error.code).toBe(404);
    expect(asked.body.failed[0].error.message.replace(sha256(adas), 'H')).toBe(
      asked.body.failed[1].error.message.replace(unknown, 'H'),
    );

    const twice = await form(bob.token, [
      { name: 'one.jpg', bytes: adas },
      { name: 'two.jpg', bytes: adas },
    ]);
    expect(twice.status).toBe(201);
    expect(twice.body.data[0]._id).toBe(twice.body.data[1]._id);
    expect(twice.body.data[0].filenames).toEqual(['one.jpg', 'two.jpg']);
    // Bob's picture of the same bytes is his own, not Ada's.
    expect(twice.body.data[0].userId).toBe(bob.id);
  });

  async function putBlob(token: string, bytes: Buffer) {
    const response = await fetch(`${server.url}/blobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: new Uint8Array(bytes),
    });
    expect(response.status).toBe(201);
    return sha256(bytes);
  }

  it('checks every blob a new picture names, each file alone', async () => {
    const adas = await putBlob(ada.token, Buffer.from('ada keeps these bytes to herself'));
    const bobsOwn = await putBlob(bob.token, Buffer.from('bob may name these'));
    const first = await putBlob(bob.token, await picture(14, 14, 601));
    const second = await putBlob(bob.token, await picture(15, 15, 602));
    const third = await putBlob(bob.token, await picture(16, 16, 603));
    // A client field naming someone else's blob is refused, as the service's create refuses it.
    const alone = await server.request('POST', '/assets', {
      token: bob.token,
      body: { sha256: first, filename: 'a.jpg', meta: { sha256: adas } },
    });
    expect(alone.status).toBe(400);
    expect(alone.body.message).toContain('not uploaded by you');
    // In an array, the failing record is named; the others are made, as with a missing blob.
    const many = await server.request('POST', '/assets', {
      token: bob.token,
      body: [
        { sha256: second, filename: 'b.jpg', meta: { sha256: bobsOwn } },
        { sha256: third, filename: 'c.jpg', meta: { sha256: adas } },
      ],
    });
    expect(many.status).toBe(400);
    expect(many.body.message).toContain('Asset 1 of the array');
    const mine = (await server.request('GET', `/assets?sha256=${second}`, { token: bob.token })).body.data;
    expect(mine).toMatchObject([{ filename: 'b.jpg', meta: { sha256: bobsOwn }, userId: bob.id, width: 15 }]);
    for (const refused of [first, third]) {
      expect((await server.request('GET', `/assets?sha256=${refused}`, { token: bob.token })).body.total).toBe(0);
    }
    // The blob she never uploaded stays out of Bob's reach.
    const probe = await fetch(`${server.url}/blobs/${adas}`, {
      method: 'HEAD',
      headers: { authorization: `Bearer ${bob.token}` },
    });
    expect(probe.status).toBe(404);
  });

  it('writes nothing for a folder sent again, and merges what is new', async () => {
    const files = [
      { name: 'again-0.jpg', bytes: await picture(17, 17, 701) },
      { name: 'again-1.jpg', bytes: await picture(18, 18, 702) },
    ];
    const first = (await form(ada.token, files, ['once'])).body.data as any[];
    const hashes = files.map((file) => ({ sha256: sha256(file.bytes), filename: file.name }));
    const same = await byHash(ada.token, { files: hashes, tags: ['once'] });
    expect(same.body.data).toEqual(first);
    const sameForm = await form(ada.token, files, ['once']);
    expect(sameForm.body.data).toEqual(first);
    const more = await byHash(ada.token, {
      files: [hashes[0], { sha256: hashes[1]?.sha256, filename: 'renamed.jpg' }],
      tags: ['twice'],
    });
    expect(more.body.data.map((asset: any) => asset.tags)).toEqual([
      ['once', 'twice'],
      ['once', 'twice'],
    ]);
    expect(more.body.data[1].filenames).toEqual(['again-1.jpg', 'renamed.jpg']);
    expect(more.body.data[0].updatedAt >= first[0].updatedAt).toBe(true);
    expect(more.body.data[0].createdAt).toBe(first[0].createdAt);
    // Bob sending Ada's hashes learns nothing and changes nothing of hers.
    const bobs = await byHash(bob.token, { files: hashes, tags: ['bob'] });
    expect(bobs.body.data).toEqual([null, null]);
    const adas = await server.request('GET', `/assets/${first[0]._id}`, { token: ada.token });
    expect(adas.body.tags).toEqual(['once', 'twice']);
  });

  it('refuses a malformed form whole with a 400, storing none of it', async () => {
    const boundary = 'cut-short';
    const before = (await server.request('GET', '/assets?$limit=0', { token: ada.token })).body.total;
    const truncated =
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="ok.jpg"\r\n\r\n` +
      `abc\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="cut.jpg"\r\n\r\nab`;
    for (const [contentType, body] of [
      [`multipart/form-data; boundary=${boundary}`, truncated],
      ['multipart/form-data', 'no boundary at all'],
    ] as const) {
      const response = await fetch(`${server.url}/assets/upload`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ada.token}`, 'content-type': contentType },
        body,
      });
      expect(response.status).toBe(400);
    }
    expect((await server.request('GET', '/assets?$limit=0', { token: ada.token })).body.total).toBe(before);
  });

  it('hands out a version as one archive, to its readers only, each file exact', async () => {
    const files = await Promise.all(
      Array.from({ length: 25 }, async (_, index) => ({
        name: `v-${index}.jpg`,
        bytes: await picture(16, 16, 500 + index),
      })),
    );
    const uploaded = (await form(ada.token, files)).body.data as any[];
    const dataset = (await server.request('POST', '/datasets', { token: ada.token, body: { name: 'tarred' } })).body;
    const version = (
      await server.request('POST', '/dataset-versions', {
        token: ada.token,
        body: { datasetId: dataset._id, name: 'first', from: null },
      })
    ).body;
    const ids = uploaded.map((asset) => asset._id);
    await server.request('POST', '/dataset-members', {
      token: ada.token,
      body: { versionId: version._id, assetIds: ids.slice(0, 20) },
    });
    const archive = (token: string, body: unknown, method = 'POST') =>
      fetch(`${server.url}/dataset-versions/${version._id}/archive`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        ...(method === 'POST' ? { body: JSON.stringify(body) } : {}),
      });

    const answer = await archive(ada.token, { assetIds: ids.slice(0, 20).reverse() });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('application/x-tar');
    const bytes = Buffer.from(await answer.arrayBuffer());
    expect(Number(answer.headers.get('content-length'))).toBe(bytes.length);
    const entries = untar(bytes);
    expect([...entries.keys()]).toEqual(ids.slice(0, 20).reverse());
    for (const [index, id] of ids.slice(0, 20).entries()) {
      expect(sha256(entries.get(id) as Buffer)).toBe(sha256(files[index]?.bytes as Buffer));
    }

    // Bob may not read the private version: the same 404 as a version that does not exist.
    const bobs = await archive(bob.token, { assetIds: ids.slice(0, 1) });
    expect(bobs.status).toBe(404);
    const none = await fetch(`${server.url}/dataset-versions/nothing/archive`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bob.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ assetIds: ids.slice(0, 1) }),
    });
    expect(none.status).toBe(404);
    expect(await bobs.json()).toMatchObject({ message: expect.stringContaining('No dataset version') });
    // Once the dataset is public, Bob reads the version's files (not Ada's other pictures).
    await server.request('PATCH', `/datasets/${dataset._id}`, { token: ada.token, body: { public: true } });
    expect((await archive(bob.token, { assetIds: ids.slice(0, 2) })).status).toBe(200);
    const outside = await archive(bob.token, { assetIds: [ids[0], ids[22]] });
    expect(outside.status).toBe(404);
    expect(((await outside.json()) as { message: string }).message).toContain(ids[22]);

    for (const body of [
      {},
      { assetIds: [] },
      { assetIds: ['a/b'] },
      { assetIds: [ids[0], ids[0]] },
      { assetIds: 'x' },
    ]) {
      expect((await archive(ada.token, body)).status).toBe(400);
    }
    const tooMany = Array.from({ length: 10_001 }, (_, index) => `p${index}`);
    expect((await archive(ada.token, { assetIds: tooMany })).status).toBe(413);
    expect((await archive(ada.token, undefined, 'GET')).status).toBe(405);
  });

  // Last: its collections take any bytes nothing holds.
  it("holds a form's new pictures by their records alone, and keeps a refused file through the grace period", async () => {
    const made = await picture(26, 14, 777);
    const refused = await picture(27, 15, 778);
    const upload = await form(ada.token, [
      { name: 'held.jpg', bytes: made },
      { name: '..', bytes: refused },
    ]);
    expect(upload.status).toBe(201);
    expect(upload.body.failed).toMatchObject([{ index: 1, error: { code: 400 } }]);
    const stored = async (bytes: Buffer) =>
      (
        await fetch(`${server.url}/blobs/${sha256(bytes)}`, {
          method: 'HEAD',
          headers: { authorization: `Bearer ${ada.token}` },
        })
      ).status;
    const collect = () =>
      server.request('POST', '/blobs/gc', { token: server.adminToken, body: { graceSeconds: 3600 } });
    expect((await collect()).status).toBe(200);
    expect(await stored(made)).toBe(200);
    expect(await stored(refused)).toBe(200);
    // The picture's record was all that held its bytes (no upload row): once it is gone, so
    // are they, grace period or not. The refused file's upload was recorded: it stays.
    const id = upload.body.data[0]._id;
    expect((await server.request('DELETE', `/assets/${id}`, { token: ada.token })).status).toBe(200);
    expect((await collect()).status).toBe(200);
    expect(await stored(made)).toBe(404);
    expect(await stored(refused)).toBe(200);
  });
});
