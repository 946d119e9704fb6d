/**
 * The one check of which blobs a record may name (`auth/blob-naming.ts`), tried as an
 * outsider would: Bob names Alice's private blob in every service that holds blobs, through
 * every shape of write (create, update, patch, dotted keys, arrays, nested objects,
 * multi-record writes, socket.io). Each attempt is paired with the same write naming a hash
 * nobody stored: the answers must be alike (status, error name), and nothing may hand Bob
 * Alice's bytes afterwards.
 */
import { randomBytes } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, TEST_STORES, type TestServer } from './support/test-server.js';

const PASSWORD = 'correct horse battery';

describe.each(TEST_STORES)('blob naming on %s', (store) => {
  let server: TestServer;
  let alice: { id: string; token: string };
  let bob: { id: string; token: string };
  let secret: { sha256: string; size: number };
  let bytes: Buffer;
  const madeUp = () => ({ sha256: randomBytes(32).toString('hex'), size: 40 });

  async function upload(user: { token: string }, body: Buffer) {
    const response = await fetch(`${server.url}/blobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.token}` },
      body,
    });
    return (await response.json()) as { sha256: string; size: number };
  }

  beforeAll(async () => {
    server = await startTestServer({ store, gcIntervalMs: 0 });
    alice = await server.createUser('alice@example.org', PASSWORD);
    bob = await server.createUser('bob@example.org', PASSWORD);
    bytes = Buffer.concat([Buffer.from('PRIVATE:'), randomBytes(32)]);
    secret = await upload(alice, bytes);
    expect(secret.size).toBe(40);
  });
  afterAll(() => server?.close());

  /** A write as Bob, once naming Alice's blob and once a made-up hash: both refused alike. */
  async function refusedAlike(
    write: (blob: { sha256: string; size: number }) => Promise<{ status: number; body: { name?: string } }>,
  ) {
    const real = await write(secret);
    const fake = await write(madeUp());
    expect(real.status, JSON.stringify(real.body)).toBe(400);
    expect(fake.status).toBe(real.status);
    expect(fake.body.name).toBe(real.body.name);
  }

  const as = (user: { token: string }) => ({
    post: (path: string, body: unknown) => server.request('POST', path, { token: user.token, body }),
    patch: (path: string, body: unknown) => server.request('PATCH', path, { token: user.token, body }),
    put: (path: string, body: unknown) => server.request('PUT', path, { token: user.token, body }),
    get: (path: string) => server.request('GET', path, { token: user.token }),
  });

  it('generic documents: create, nested, arrays, update, patch, dotted keys and multi patch', async () => {
    const doc = await as(bob).post('/notes', { title: 'mine' });
    expect(doc.status).toBe(201);
    await refusedAlike((blob) => as(bob).post('/notes', { file: blob }));
    await refusedAlike((blob) => as(bob).post('/notes', [{ ok: 1 }, { deep: [{ list: [{ again: blob }] }] }]));
    await refusedAlike((blob) => as(bob).put(`/notes/${doc.body._id}`, { title: 'x', file: blob }));
    await refusedAlike((blob) => as(bob).patch(`/notes/${doc.body._id}`, { 'file.sha256': blob.sha256 }));
    await refusedAlike((blob) => as(bob).patch(`/notes/${doc.body._id}`, { 'list.0': { sha256: blob.sha256 } }));
    await refusedAlike((blob) => as(bob).patch('/notes?title=mine', { file: blob }));
    // A document nested deeper than any fixed walk would look still cannot hide a hash.
    await refusedAlike((blob) => {
      let deep: unknown = blob;
      for (let i = 0; i < 60; i++) deep = { d: deep };
      return as(bob).post('/notes', { deep });
    });
    expect((await as(bob).get(`/notes/${doc.body._id}`)).body).not.toHaveProperty('file');
  });

  it('over socket.io too', async () => {
    const socket: Socket = io(server.url, { transports: ['websocket'], forceNew: true });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.emit('create', 'authentication', { strategy: 'jwt', accessToken: bob.token }, (error: unknown) =>
          error ? reject(error) : resolve(),
        );
      });
      const call = (...args: unknown[]) =>
        new Promise<{ status: number; body: { name?: string } }>((resolve) => {
          socket.emit(...(args as [string]), (error: { code?: number; name?: string } | null, result: unknown) =>
            resolve(error ? { status: error.code ?? 0, body: error } : { status: 201, body: result as object }),
          );
        });
      await refusedAlike((blob) => call('create', 'notes', { file: blob }));
      const doc = await call('create', 'notes', { title: 'socket' });
      const id = (doc.body as { _id: string })._id;
      await refusedAlike((blob) => call('patch', 'notes', id, { 'file.sha256': blob.sha256 }));
    } finally {
      socket.close();
    }
  });

  it('runs, artifacts, pictures, thumbnails and Marcelle models', async () => {
    const run = await as(bob).post('/runs', { name: 'r', folder: 'x', makeFolder: true });
    expect(run.status).toBe(201);
    await refusedAlike((blob) => as(bob).patch(`/runs/${run.body._id}`, { 'files.weights': { ...blob } }));
    await refusedAlike((blob) =>
      as(bob).post('/artifacts', { name: 'a', folder: 'x', objects: [{ path: 'f', ...blob }] }),
    );
    // Thumbnails are the server's: a client's is dropped, whatever it names.
    for (const blob of [secret, madeUp()]) {
      const plain = await as(bob).post('/assets', { filename: 'x.png', thumbnail: blob });
      expect(plain.status).toBe(201);
      expect(plain.body).not.toHaveProperty('thumbnail');
      expect((await as(bob).get(`/assets/${plain.body._id}/thumbnail`)).status).toBe(404);
      const patched = await as(bob).patch(`/assets/${plain.body._id}`, { thumbnail: blob });
      expect(patched.body).not.toHaveProperty('thumbnail');
    }
    await refusedAlike((blob) => as(bob).post('/assets', { filename: 'x.wav', url: `${blob.sha256}/file` }));
    const model = await as(bob).post('/tfjs-models', { name: 'm', files: [], public: true });
    expect(model.status).toBe(201);
    await refusedAlike((blob) =>
      as(bob).patch(`/tfjs-models/${model.body._id}`, { 'files.0': ['model.json', blob.sha256] }),
    );
    await refusedAlike((blob) => as(bob).post('/tfjs-models', { name: 'n', files: [['model.json', blob.sha256]] }));
    const anonymous = await fetch(`${server.url}/tfjs-models/${model.body._id}/model.json`);
    expect(anonymous.status).toBe(404);
  });

  it('the registry: named files of a model', async () => {
    const model = await as(bob).post('/models', { name: 'net' });
    expect(model.status).toBe(201);
    await refusedAlike((blob) => as(bob).patch(`/models/${model.body._id}`, { files: { readme: blob } }));
    await refusedAlike((blob) => as(bob).patch(`/models/${model.body._id}`, { 'files.readme': blob }));
  });

  it('once Bob uploads the same bytes he holds them, and may name them', async () => {
    const mine = await upload(bob, bytes);
    expect(mine.sha256).toBe(secret.sha256);
    const doc = await as(bob).post('/notes', { file: mine });
    expect(doc.status).toBe(201);
    const run = await as(bob).post('/runs', { name: 'held', folder: 'x' });
    const named = await as(bob).patch(`/runs/${run.body._id}`, { 'files.weights': mine });
    expect(named.status).toBe(200);
    const file = await fetch(`${server.url}/runs/${run.body._id}/files/weights`, {
      headers: { authorization: `Bearer ${bob.token}` },
    });
    expect(Buffer.from(await file.arrayBuffer()).equals(bytes)).toBe(true);
  });
});
