/**
 * `PUT /stock-refs/<repo>/<ref>` after packs were pushed: the move finds a commit's objects
 * in the packs the repository holds (those this server just verified, and those it reads
 * back from their index after a restart), and refuses a commit naming an object the
 * repository does not hold, whoever else holds it; on SQLite and PostgreSQL.
 */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError } from '../../../test/support/expect-error.js';
import {
  startTestServer,
  startTwoUserServer,
  TEST_STORES,
  type TestServer,
} from '../../../test/support/test-server.js';
import { commitNaming, packOf, stockObject } from './test-support/stock-pack-bytes.js';
import { newStockRepository } from './test-support/stock-repository.js';

describe.each(TEST_STORES)('moving a ref to a commit in pushed packs on %s', (store) => {
  let server: TestServer;
  let ada: { id: string; token: string };
  let bob: { id: string; token: string };

  beforeAll(async () => {
    ({ server, ada, bob } = await startTwoUserServer({ store, gcIntervalMs: 0 }));
  });
  afterAll(() => server.close());

  const putPack = async (repo: string, pack: { bytes: Buffer; name: string }, token: string) => {
    const response = await fetch(`${server.url}/stock-packs/${repo}/${pack.name}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream', authorization: `Bearer ${token}` },
      body: pack.bytes,
    });
    expect(response.status).toBe(201);
  };
  const moveRef = (repo: string, commit: string, token: string) =>
    server.request('PUT', `/stock-refs/${repo}/main`, { token, body: { commit } });
  const refOf = async (repo: string) =>
    (await server.request('GET', `/stock-repos/${repo}`, { token: ada.token })).body.refs?.main as string | undefined;
  const samples = (first: number, count: number) =>
    Array.from({ length: count }, (_, index) => stockObject(first + index, 100 + index));

  it('moves the ref to a commit whose objects came in the packs just sent, recording their sizes', async () => {
    const repo = await newStockRepository(server, 'packed-move', ada.token);
    const objects = samples(0, 300);
    const data = packOf(objects);
    const names = Object.fromEntries(data.ids.map((id, index) => [`s${index}`, id]));
    const commit = packOf([commitNaming(names)]);
    await putPack(repo, data, ada.token);
    await putPack(repo, commit, ada.token);
    const moved = await moveRef(repo, commit.ids[0] as string, ada.token);
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ commit: commit.ids[0], previous: null, recorded: [commit.ids[0]] });
    expect(await refOf(repo)).toBe(commit.ids[0]);
    const recorded = await server.request('GET', `/stock-commits?repo=${repo}`, { token: ada.token });
    const bytes = objects.reduce((sum, object) => sum + object.length, 0) + commitNaming(names).length;
    expect(recorded.body.data[0]).toMatchObject({ objects: 301, bytes });
  });

  it('refuses a commit naming an object the repository lacks, even one another repository holds', async () => {
    const repo = await newStockRepository(server, 'lacks-one', ada.token);
    const held = packOf(samples(1000, 20));
    await putPack(repo, held, ada.token);
    // Bob's repository holds sample 5000; Ada's never received it, and 6000 is nowhere.
    const elsewhere = packOf(samples(5000, 1));
    await putPack(await newStockRepository(server, 'bobs', bob.token), elsewhere, bob.token);
    const absent = packOf(samples(6000, 1));
    for (const lacking of [elsewhere.ids[0] as string, absent.ids[0] as string]) {
      const names = Object.fromEntries(held.ids.map((id, index) => [`s${index}`, id]));
      names.extra = lacking;
      const commit = packOf([commitNaming(names, [], `names ${lacking.slice(0, 8)}`)]);
      await putPack(repo, commit, ada.token);
      const refused = await moveRef(repo, commit.ids[0] as string, ada.token);
      expectError(refused, 422, 'Unprocessable', /1 of the objects .* not on the server/);
      expect(refused.body.data.missing).toEqual([lacking]);
      expect(await refOf(repo)).toBeUndefined();
    }
    // The same commit without the stranger moves the ref.
    const names = Object.fromEntries(held.ids.map((id, index) => [`s${index}`, id]));
    const good = packOf([commitNaming(names)]);
    await putPack(repo, good, ada.token);
    expect((await moveRef(repo, good.ids[0] as string, ada.token)).status).toBe(200);
  });

  it('lets only a writer of the repository move its ref', async () => {
    const repo = await newStockRepository(server, 'ada-only', ada.token);
    const data = packOf(samples(2000, 5));
    const commit = packOf([commitNaming(Object.fromEntries(data.ids.map((id, index) => [`s${index}`, id])))]);
    await putPack(repo, data, ada.token);
    await putPack(repo, commit, ada.token);
    expectError(await moveRef(repo, commit.ids[0] as string, bob.token), 404, 'NotFound', /./);
    expect(await refOf(repo)).toBeUndefined();
  });
});

describe('moving a ref after a restart, the packs read back from their indexes', () => {
  it('finds the objects of packs received before the restart, and still refuses what is not held', async () => {
    const first = await startTestServer({ gcIntervalMs: 0 });
    const dataDir = first.dataDir;
    const user = await first.createUser('ada@example.org');
    const repo = (await first.request('POST', '/stock-repos', { token: user.token, body: { name: 'kept' } })).body
      ._id as string;
    const data = packOf(Array.from({ length: 50 }, (_, index) => stockObject(index, 64)));
    const sent = await fetch(`${first.url}/stock-packs/${repo}/${data.name}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream', authorization: `Bearer ${user.token}` },
      body: data.bytes,
    });
    expect(sent.status).toBe(201);
    await first.server.close();

    const second = await startTestServer({ gcIntervalMs: 0, dataDir });
    try {
      const login = await second.request('POST', '/authentication', {
        body: { strategy: 'local', email: 'ada@example.org', password: 'correct horse battery' },
      });
      const token = login.body.accessToken as string;
      const names = Object.fromEntries(data.ids.map((id, index) => [`s${index}`, id]));
      const lacking = packOf([stockObject(9999, 64)]).ids[0] as string;
      for (const [tree, status] of [
        [{ ...names, extra: lacking }, 422],
        [names, 200],
      ] as const) {
        const commit = packOf([commitNaming(tree)]);
        const put = await fetch(`${second.url}/stock-packs/${repo}/${commit.name}`, {
          method: 'PUT',
          headers: { 'content-type': 'application/octet-stream', authorization: `Bearer ${token}` },
          body: commit.bytes,
        });
        expect(put.status).toBe(201);
        const moved = await second.request('PUT', `/stock-refs/${repo}/main`, {
          token,
          body: { commit: commit.ids[0] },
        });
        expect(moved.status).toBe(status);
        if (status === 422) expect(moved.body.data.missing).toEqual([lacking]);
      }
    } finally {
      await second.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
