/**
 * `PUT /stock-packs/<repo>/<pack>`: a pack sent and registered in one request, checked before
 * anything is kept (its name, every object's id), and only by a caller who may push to the
 * repository; on SQLite and PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError } from '../../../test/support/expect-error.js';
import {
  startTestServer,
  startTwoUserServer,
  TEST_STORES,
  type TestServer,
} from '../../../test/support/test-server.js';
import { stockPack } from './test-support/stock-pack-bytes.js';
import { newStockRepository } from './test-support/stock-repository.js';

describe.each(TEST_STORES)('PUT /stock-packs/<repo>/<pack> on %s', (store) => {
  let server: TestServer;
  let ada: { id: string; token: string };
  let bob: { id: string; token: string };

  beforeAll(async () => {
    ({ server, ada, bob } = await startTwoUserServer({ store, gcIntervalMs: 0 }));
  });
  afterAll(() => server.close());

  const put = async (repo: string, pack: string, bytes: Buffer, token: string | undefined) => {
    const response = await fetch(`${server.url}/stock-packs/${repo}/${pack}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: bytes,
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
  };
  const packsOf = async (repo: string) =>
    ((await server.request('GET', `/stock-packs/${repo}`, { token: ada.token })).body.packs as { pack: string }[]).map(
      (each) => each.pack,
    );
  const adminHolds = async (sha256: string) =>
    (await server.request('HEAD', `/blobs/${sha256}`, { token: server.adminToken })).status === 200;

  it('stores and registers a pack in one request, whose objects are then served', async () => {
    const repo = await newStockRepository(server, 'one-request', ada.token);
    const { bytes, name, objects } = stockPack(50);
    const first = await put(repo, name, bytes, ada.token);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ pack: name, objects: 50, bytes: bytes.length });
    expect(await packsOf(repo)).toEqual([name]);
    const [id, object] = [...objects][7] as [string, Buffer];
    const served = await fetch(`${server.url}/stock-objects/${repo}/${id}`, {
      headers: { authorization: `Bearer ${ada.token}` },
    });
    expect(Buffer.from(await served.arrayBuffer()).equals(object)).toBe(true);
    const located = await server.request('POST', `/stock-objects/${repo}/locate`, {
      token: ada.token,
      body: { objects: [...objects.keys()] },
    });
    expect(located.body.packs).toEqual([{ pack: name, bytes: bytes.length, objects: 50, wanted: 50 }]);
    // Sent again (an interrupted push that asks again): answered from the record, nothing doubled.
    const again = await put(repo, name, bytes, ada.token);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(await packsOf(repo)).toEqual([name]);
  });

  it('refuses bytes that are not the pack named, a truncated pack and a damaged object, keeping what was stored', async () => {
    const repo = await newStockRepository(server, 'refusals', ada.token);
    const good = stockPack(20);
    expect((await put(repo, good.name, good.bytes, ada.token)).status).toBe(201);

    const other = stockPack(20, 100);
    expectError(
      await put(repo, other.name, good.bytes, ada.token),
      400,
      'BadRequest',
      /hashes to .*nothing was stored/,
    );
    expect(await adminHolds(other.name)).toBe(false);

    const { createHash } = await import('node:crypto');
    const named = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
    const truncated = other.bytes.subarray(0, other.bytes.length - 100);
    expectError(
      await put(repo, named(truncated), truncated, ada.token),
      422,
      'Unprocessable',
      /not valid: it ends inside|runs past its end/,
    );

    const damaged = Buffer.from(other.bytes);
    damaged[16 + 40 + 60] = (damaged[16 + 40 + 60] as number) ^ 1;
    expectError(
      await put(repo, named(damaged), damaged, ada.token),
      422,
      'Unprocessable',
      /not valid: object .* hashes to/,
    );

    // Checked as they arrived: none of the refused bytes were kept.
    expect(await adminHolds(named(truncated))).toBe(false);
    expect(await adminHolds(named(damaged))).toBe(false);

    const notAPack = Buffer.from('{"pack": "hello"}');
    expectError(await put(repo, named(notAPack), notAPack, ada.token), 422, 'Unprocessable', /pack magic/);
    expectError(await put(repo, 'not-a-hash', good.bytes, ada.token), 400, 'BadRequest', /SHA-256/);
    const unsized = await fetch(`${server.url}/stock-packs/${repo}/${other.name}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ada.token}`, 'content-type': 'application/octet-stream' },
      body: new Blob([other.bytes]).stream(),
      duplex: 'half',
    } as RequestInit);
    expect(unsized.status).toBe(411);
    expect(await adminHolds(other.name)).toBe(false);

    // Only the good pack is held, and its objects are still all served.
    expect(await packsOf(repo)).toEqual([good.name]);
    for (const [id, object] of good.objects) {
      const served = await fetch(`${server.url}/stock-objects/${repo}/${id}`, {
        headers: { authorization: `Bearer ${ada.token}` },
      });
      expect(Buffer.from(await served.arrayBuffer()).equals(object)).toBe(true);
    }
  });

  it("lets nobody else push into a user's repository, private or public, nor keeps their bytes", async () => {
    const secret = await newStockRepository(server, 'ada-private', ada.token);
    const shared = await newStockRepository(server, 'ada-public', ada.token, { public: true });
    const { bytes, name } = stockPack(10, 500);
    expectError(await put(secret, name, bytes, bob.token), 404, 'NotFound', /may read/);
    expectError(await put(shared, name, bytes, bob.token), 403, 'Forbidden', /not push/);
    expect((await put(secret, name, bytes, undefined)).status).toBe(401);
    expect(await adminHolds(name)).toBe(false);
    expect(await packsOf(secret)).toEqual([]);
    expect(await packsOf(shared)).toEqual([]);
    // Bob's own repository takes it; Ada's still do not hold it.
    const own = await newStockRepository(server, 'bob-own', bob.token);
    expect((await put(own, name, bytes, bob.token)).status).toBe(201);
    expect(await packsOf(secret)).toEqual([]);
    expectError(
      await server.request('GET', `/stock-packs/${secret}/${name}`, { token: ada.token }),
      404,
      'NotFound',
      /holds no pack/,
    );
  });

  it('refuses a pack larger than the server takes before reading it', async () => {
    const small = await startTestServer({ store, gcIntervalMs: 0, maxBlobBytes: 1024 });
    try {
      const carol = await small.createUser('carol@example.org');
      const created = await small.request('POST', '/stock-repos', { token: carol.token, body: { name: 'limits' } });
      const { bytes, name } = stockPack(40);
      const response = await fetch(`${small.url}/stock-packs/${created.body._id}/${name}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${carol.token}`, 'content-type': 'application/octet-stream' },
        body: bytes,
      });
      expect(response.status).toBe(413);
      expect(((await response.json()) as { message: string }).message).toMatch(/at most 1024 bytes/);
    } finally {
      await small.close();
    }
  });
});
