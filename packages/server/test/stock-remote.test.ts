/**
 * Stock repositories shared through a real server: a push from one local repository and a
 * pull into another give identical tensors and history; only missing objects travel; refs
 * move by compare-and-set and refuse to drop commits unless forced; private repositories
 * and their objects stay invisible to others; garbage collection keeps what commits need.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  COMMIT_FORMAT,
  HttpStockRemote,
  initStock,
  objectsForCommit,
  pullStock,
  pushStock,
  StockRoom,
  type Tensor,
  tensor,
} from '@larder/stock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectError } from './support/expect-error.js';
import { startTwoUserServer, TEST_STORES, type TestServer } from './support/test-server.js';

const directories: string[] = [];
const remotes: HttpStockRemote[] = [];

afterEach(async () => {
  await Promise.all(remotes.splice(0).map((remote) => remote.close()));
  await Promise.all(directories.splice(0).map((path) => rm(path, { recursive: true, force: true })));
});

async function newRoom(): Promise<StockRoom> {
  const path = await mkdtemp(join(tmpdir(), 'larder-stock-remote-'));
  directories.push(path);
  await initStock(path);
  return new StockRoom({ path, author: 'tester' });
}

function layer(seed: number, length = 4096): Tensor {
  const values = new Float32Array(length);
  for (let i = 0; i < length; i++) values[i] = Math.sin(seed * 7919 + i);
  return tensor(values, [length / 64, 64]);
}

function bytesOf(t: Tensor): Buffer {
  const data = t.data as ArrayBufferView;
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

describe.each(TEST_STORES)('stock push and pull on %s', (store) => {
  let server: TestServer;
  let ada: { id: string; token: string };
  let bob: { id: string; token: string };

  beforeAll(async () => {
    ({ server, ada, bob } = await startTwoUserServer({ store, gcIntervalMs: 0 }));
  });
  afterAll(() => server.close());

  const remoteAs = (token: string) => {
    const remote = new HttpStockRemote({ url: server.url, token });
    remotes.push(remote);
    return remote;
  };
  const repoNamed = async (name: string, token: string) =>
    (await server.request('GET', `/stock-repos?name=${name}`, { token })).body.data[0];

  it('pull gives identical tensors and history, and only missing objects travel the second time', async () => {
    const source = await newRoom();
    const weights = { dense1: layer(1), dense2: layer(2), bias: tensor([0.5, -1, 2]) };
    await source.model.saveWeights('net', weights);
    await source.data.set('images', 'first', tensor(new Uint8Array([1, 2, 3, 4]), [2, 2]));
    await source.tag.set('lr', 0.001);
    const first = await source.commit('baseline');

    const pushed = await pushStock(source, remoteAs(ada.token), { repo: 'mnist' });
    expect(pushed).toMatchObject({ created: true, commits: 1, previous: null, upToDate: false });
    expect(pushed.objects).toBe((await objectsForCommit(source.objects, first)).length);
    const repo = await repoNamed('mnist', ada.token);
    expect(repo).toMatchObject({ name: 'mnist', userId: ada.id, public: false, refs: { main: first } });
    const history = await server.request('GET', `/stock-commits?repo=${repo._id}`, { token: ada.token });
    expect(history.body.data).toEqual([
      expect.objectContaining({
        commit: first,
        parents: [],
        message: 'baseline',
        author: 'tester',
        tree: { model: 1, 'data/images': 1, tag: 1 },
        objects: pushed.objects,
      }),
    ]);

    const copy = await newRoom();
    const pulled = await pullStock(copy, remoteAs(ada.token), { repo: 'mnist' });
    expect(pulled).toMatchObject({ status: 'fast-forward', head: first, commits: 1, objects: pushed.objects });
    const loaded = (await copy.model.loadWeights('net')) as Record<string, Tensor>;
    for (const [name, original] of Object.entries(weights)) {
      expect(loaded[name]?.shape).toEqual(original.shape);
      expect(bytesOf(loaded[name] as Tensor).equals(bytesOf(original))).toBe(true);
    }
    expect(await copy.tag.get('lr')).toBe(0.001);

    // One layer changes: the push sends that tensor, the new manifest and the commit, nothing else.
    await source.model.saveWeights('net', { ...weights, dense2: layer(3) });
    const second = await source.commit('retrained dense2');
    const again = await pushStock(source, remoteAs(ada.token));
    expect(again).toMatchObject({ created: false, commits: 1, objects: 3, previous: first, commit: second });
    expect(again.bytes).toBeGreaterThan(4096 * 4);
    expect(again.bytes).toBeLessThan(2 * 4096 * 4);
    expect(await pushStock(source, remoteAs(ada.token))).toMatchObject({ upToDate: true });

    const update = await pullStock(copy, remoteAs(ada.token));
    expect(update).toMatchObject({ status: 'fast-forward', head: second, commits: 1, objects: 3 });
    const reloaded = (await copy.model.loadWeights('net')) as Record<string, Tensor>;
    expect(bytesOf(reloaded.dense2 as Tensor).equals(bytesOf(layer(3)))).toBe(true);
    expect((await copy.log()).map((commit) => commit.id)).toEqual([second, first]);
    expect(await pullStock(copy, remoteAs(ada.token))).toMatchObject({ status: 'up-to-date', objects: 0 });
    const config = JSON.parse(await readFile(join(copy.root, '.stock', 'config.json'), 'utf8'));
    expect(config).toEqual({ remote: { repo: 'mnist' } });

    const edit = await server.request('PATCH', `/stock-repos/${repo._id}`, {
      token: ada.token,
      body: { refs: { main: first } },
    });
    expectError(edit, 400, 'BadRequest', /only by pushing/);
  });

  it('refuses a push that is not a fast-forward unless forced, and a ref that moved meanwhile', async () => {
    const alice = await newRoom();
    await alice.tag.set('epoch', 1);
    const base = await alice.commit('base');
    await pushStock(alice, remoteAs(ada.token), { repo: 'forked-history' });
    const other = await newRoom();
    await pullStock(other, remoteAs(ada.token), { repo: 'forked-history' });

    await alice.tag.set('epoch', 2);
    const ahead = await alice.commit('alice');
    await pushStock(alice, remoteAs(ada.token));
    await other.tag.set('epoch', 3);
    const diverging = await other.commit('other');
    await expect(pushStock(other, remoteAs(ada.token))).rejects.toMatchObject({
      name: 'Conflict',
      message: expect.stringMatching(/pull first/),
    });

    // The server refuses on its own, whatever the client believes.
    const repo = await repoNamed('forked-history', ada.token);
    const remote = remoteAs(ada.token);
    for (const hash of await remote.missingObjects(repo._id, await objectsForCommit(other.objects, diverging))) {
      await remote.uploadObject(hash, other.objects.pathOf(hash), 0);
    }
    const path = `/stock-refs/${repo._id}/main`;
    const refused = await server.request('PUT', path, { token: ada.token, body: { commit: diverging } });
    expectError(refused, 409, 'Conflict', /Not a fast-forward.*--force/);
    const stale = await server.request('PUT', path, { token: ada.token, body: { commit: diverging, from: base } });
    expectError(stale, 409, 'Conflict', /moved while you pushed/);
    expect((await repoNamed('forked-history', ada.token)).refs.main).toBe(ahead);

    const forced = await pushStock(other, remoteAs(ada.token), { force: true });
    expect(forced).toMatchObject({ forced: true, previous: ahead, commit: diverging });
    expect((await repoNamed('forked-history', ada.token)).refs.main).toBe(diverging);
    // Both histories stay browsable.
    const commits = await server.request('GET', `/stock-commits?repo=${repo._id}`, { token: ada.token });
    expect(commits.body.total).toBe(3);
    expect(await pullStock(alice, remoteAs(ada.token))).toMatchObject({ status: 'diverged', head: ahead });
  });

  it("hides another user's private repository and its objects, and shares a public one read-only", async () => {
    const room = await newRoom();
    await room.model.saveWeights('secret', { w: layer(10) });
    const head = await room.commit('private weights');
    await pushStock(room, remoteAs(ada.token), { repo: 'private-model' });
    const repo = await repoNamed('private-model', ada.token);
    const [tensorId] = await objectsForCommit(room.objects, head);

    expect(await repoNamed('private-model', bob.token)).toBeUndefined();
    expectError(await server.request('GET', `/stock-repos/${repo._id}`, { token: bob.token }), 404, 'NotFound', /./);
    for (const path of [`/stock-objects/${repo._id}/${tensorId}`, `/stock-commits?repo=${repo._id}`]) {
      expectError(await server.request('GET', path, { token: bob.token }), 404, 'NotFound', /may read|holds no/);
    }
    expect((await server.request('GET', `/blobs/${tensorId}`, { token: bob.token })).status).toBe(404);
    const push = await server.request('PUT', `/stock-refs/${repo._id}/main`, {
      token: bob.token,
      body: { commit: head },
    });
    expectError(push, 404, 'NotFound', /may read/);
    const bobRemote = remoteAs(bob.token);
    await expect(pullStock(await newRoom(), bobRemote, { repo: 'private-model' })).rejects.toMatchObject({
      name: 'NotFound',
    });

    // Knowing a tensor's id is not holding it: a commit that names it without uploading it is refused.
    const thief = await newRoom();
    const manifest = await thief.objects.putJson('model', {
      framework: 'tfjs',
      frameworkVersion: '',
      layout: 'map',
      tensors: [{ name: 'w', hash: tensorId, dtype: 'float32', shape: [64, 64] }],
    });
    const stolen = await thief.objects.putJson('commit', {
      format: COMMIT_FORMAT,
      parents: [],
      message: 'stolen',
      author: 'bob',
      time: new Date().toISOString(),
      tree: { model: { secret: manifest } },
      columns: {},
    });
    const own = await bobRemote.createRepository('loot');
    expect(await bobRemote.missingObjects(own._id, [tensorId as string, manifest, stolen])).toEqual([
      tensorId,
      manifest,
      stolen,
    ]);
    for (const hash of [manifest, stolen]) await bobRemote.uploadObject(hash, thief.objects.pathOf(hash), 0);
    const theft = await server.request('PUT', `/stock-refs/${own._id}/main`, {
      token: bob.token,
      body: { commit: stolen },
    });
    expectError(theft, 422, 'Unprocessable', /not on the server \(or were not uploaded by you\)/);
    expectError(
      await server.request('GET', `/stock-objects/${own._id}/${tensorId}`, { token: bob.token }),
      404,
      'NotFound',
      /holds no object/,
    );

    // Made public: bob pulls it, cannot push to it, and forks it. Small objects travel in packs,
    // and a fork holds only packs pushed to it: bob's push uploads ada's three small objects
    // again (in one pack) beside his tag and commit.
    await server.request('PATCH', `/stock-repos/${repo._id}`, { token: ada.token, body: { public: true } });
    const copy = await newRoom();
    expect(await pullStock(copy, bobRemote, { repo: 'private-model' })).toMatchObject({ status: 'fast-forward', head });
    await copy.tag.set('mine', true);
    await copy.commit('bob was here');
    await expect(pushStock(copy, bobRemote)).rejects.toMatchObject({
      name: 'Forbidden',
      message: expect.stringMatching(/pull from .* but not push/),
    });
    const fork = await pushStock(copy, bobRemote, { repo: 'my-fork' });
    expect(fork).toMatchObject({ created: true, commits: 2, objects: 5 });
  });

  it('moves many small samples in packs, resumably, and keeps them invisible to another user', async () => {
    const room = await newRoom();
    const sample = (i: number) => {
      const bytes = new Uint8Array(784);
      new DataView(bytes.buffer).setUint32(0, i, true);
      return tensor(bytes, [28, 28], 'uint8');
    };
    await room.optimize(async () => {
      for (let i = 0; i < 300; i++) await room.data.set('images', `s${i}`, sample(i));
    });
    const head = await room.commit('300 samples');
    const pushed = await pushStock(room, remoteAs(ada.token), { repo: 'packed-samples' });
    expect(pushed).toMatchObject({ commits: 1, objects: 301 });
    const repo = await repoNamed('packed-samples', ada.token);
    const listed = await server.request('GET', `/stock-packs/${repo._id}`, { token: ada.token });
    expect(listed.status).toBe(200);
    // The local pack of the 300 samples went as it is; the commit, written alone, in a pack of its own.
    const listedPacks = listed.body.packs as { pack: string; objects: number }[];
    expect(listedPacks.map((each) => each.objects).sort((a, b) => a - b)).toEqual([1, 300]);
    const pack = listedPacks.find((each) => each.objects === 300)?.pack as string;
    expect(pack).toBe((await readdir(room.layout.packs)).find((file) => file.endsWith('.pack'))?.slice(0, 64));

    // Another user can neither list, download, locate, register nor read through the pack.
    for (const path of [`/stock-packs/${repo._id}`, `/stock-packs/${repo._id}/${pack}`]) {
      expectError(await server.request('GET', path, { token: bob.token }), 404, 'NotFound', /may read/);
    }
    const locate = await server.request('POST', `/stock-objects/${repo._id}/locate`, {
      token: bob.token,
      body: { objects: [head] },
    });
    expectError(locate, 404, 'NotFound', /may read/);
    expect((await server.request('GET', `/blobs/${pack}`, { token: bob.token })).status).toBe(404);
    const loot = await remoteAs(bob.token).createRepository('pack-loot');
    const claim = await server.request('POST', `/stock-packs/${loot._id}`, { token: bob.token, body: { pack } });
    expectError(claim, 404, 'NotFound', /No uploaded stock pack/);
    const unknown = await server.request('POST', `/stock-packs/${loot._id}`, {
      token: bob.token,
      body: { pack: 'f'.repeat(64) },
    });
    expectError(unknown, 404, 'NotFound', /No uploaded stock pack/);

    // A pull downloads the pack (continuing a partial one) and checks every object in it.
    const copy = await newRoom();
    const start = await fetch(`${server.url}/stock-packs/${repo._id}/${pack}`, {
      headers: { authorization: `Bearer ${ada.token}`, range: 'bytes=0-999' },
    });
    expect(start.status).toBe(206);
    const { mkdir, writeFile } = await import('node:fs/promises');
    await mkdir(copy.layout.scratch, { recursive: true });
    await writeFile(join(copy.layout.scratch, `${pack}.pull.part`), Buffer.from(await start.arrayBuffer()));
    expect(await pullStock(copy, remoteAs(ada.token), { repo: 'packed-samples' })).toMatchObject({
      status: 'fast-forward',
      head,
      objects: 301,
    });
    const fresh = new StockRoom({ path: copy.root });
    for (const i of [0, 150, 299]) expect(bytesOf(await fresh.data.get('images', `s${i}`))).toEqual(bytesOf(sample(i)));
    expect((await copy.objects.check()).problems).toEqual([]);
  });

  it('refuses a pack whose objects do not match their ids, and stores nothing of it', async () => {
    const remote = remoteAs(ada.token);
    const repo = await remote.createRepository('bad-packs');
    const object = Buffer.concat([Buffer.from('LSO1'), Buffer.alloc(12)]);
    const header = Buffer.alloc(16);
    header.write('LSP1', 0, 'latin1');
    header.writeUInt32LE(1, 4);
    const entry = Buffer.alloc(40);
    entry.write('ab'.repeat(32), 0, 32, 'hex'); // not the object's SHA-256
    entry.writeUInt32LE(object.length, 32);
    const dir = await mkdtemp(join(tmpdir(), 'larder-bad-pack-'));
    directories.push(dir);
    const path = join(dir, 'bad.pack');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(path, Buffer.concat([header, entry, object]));
    await expect(remote.uploadPack(repo._id, path)).rejects.toMatchObject({
      name: 'Unprocessable',
      message: expect.stringMatching(/not valid: object abababababab hashes to/),
    });
    expect((await server.request('GET', `/stock-packs/${repo._id}`, { token: ada.token })).body.packs).toEqual([]);
  });

  it('garbage collection keeps every object a pushed commit needs, and frees them with the repository', async () => {
    const room = await newRoom();
    await room.model.saveWeights('net', { a: layer(20), b: layer(21) });
    await room.commit('one');
    await room.model.saveWeights('net', { a: layer(20), b: layer(22) });
    const head = await room.commit('two');
    await pushStock(room, remoteAs(ada.token), { repo: 'collected' });
    const stray = await room.objects.putTensor(layer(23));
    const remote = remoteAs(ada.token);
    await remote.uploadObject(stray, room.objects.pathOf(stray), 0);

    const collect = () => server.request('POST', '/blobs/gc', { token: server.adminToken, body: { graceSeconds: 0 } });
    expect((await collect()).status).toBe(200);
    const adminHas = async (hash: string) =>
      (await server.request('HEAD', `/blobs/${hash}`, { token: server.adminToken })).status;
    expect(await adminHas(stray)).toBe(404);

    const copy = await newRoom();
    expect(await pullStock(copy, remoteAs(ada.token), { repo: 'collected' })).toMatchObject({ head, commits: 2 });
    expect((await new StockRoom({ path: copy.root, commit: head }).model.describe('net')).tensors).toHaveLength(2);

    const repo = await repoNamed('collected', ada.token);
    expect((await server.request('DELETE', `/stock-repos/${repo._id}`, { token: ada.token })).status).toBe(200);
    await collect();
    for (const hash of await objectsForCommit(room.objects, head)) expect(await adminHas(hash)).toBe(404);
    const records = await server.request('GET', `/stock-commits?repo=${repo._id}`, { token: server.adminToken });
    expect(records.status).toBe(404);
  });
});
