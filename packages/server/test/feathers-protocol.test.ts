/**
 * The wire protocol, exercised by the real Feathers client (`@feathersjs/client` v5) over
 * REST and over socket.io: every method, multi operations, pagination, each operator,
 * events and authentication, against a real server.
 */
import { authentication, feathers, rest, socketio } from '@feathersjs/client';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, TEST_STORES, type TestServer } from './support/test-server.js';

type Transport = 'rest' | 'socketio';

const PASSWORD = 'correct horse battery';
const sockets: Socket[] = [];

async function connectClient(url: string, transport: Transport, email: string) {
  const app = feathers();
  if (transport === 'rest') app.configure(rest(url).fetch(fetch));
  else {
    const socket = io(url, { transports: ['websocket'], forceNew: true });
    sockets.push(socket);
    app.configure(socketio(socket as any));
  }
  app.configure(authentication());
  await app.authenticate({ strategy: 'local', email, password: PASSWORD });
  return app;
}

/** A socket client signed in as `email`, for events (REST has none). */
async function eventClient(url: string, email: string) {
  return connectClient(url, 'socketio', email);
}

/** Resolves with the next `event` on `service` that satisfies `accept`. */
function nextEvent(service: any, event: string, accept: (record: any) => boolean = () => true): Promise<any> {
  return new Promise((resolve) => {
    const handler = (record: any) => {
      if (!accept(record)) return;
      service.removeListener(event, handler);
      resolve(record);
    };
    service.on(event, handler);
  });
}

const CASES = TEST_STORES.flatMap((store) =>
  (['rest', 'socketio'] as const).map((transport) => ({ store, transport })),
);

describe.each(CASES)('the Feathers client over $transport, on $store', ({ store, transport }) => {
  let server: TestServer;
  let client: any;
  let listener: any;
  const email = `${transport}@example.com`;
  const name = `items-${transport}`;

  beforeAll(async () => {
    server = await startTestServer({ store });
    await server.createUser(email, PASSWORD);
    client = await connectClient(server.url, transport, email);
    listener = await eventClient(server.url, email);
  });

  afterAll(async () => {
    for (const socket of sockets.splice(0)) socket.close();
    await server.close();
  });

  it('creates one record with server-set fields', async () => {
    const before = Date.now();
    const record = await client.service(name).create({ title: 'first', score: 1 });
    expect(record).toMatchObject({ title: 'first', score: 1 });
    expect(typeof record._id).toBe('string');
    expect(Date.parse(record.createdAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(record.updatedAt).toBe(record.createdAt);
    expect(typeof record.userId).toBe('string');
    expect(await client.service(name).get(record._id)).toEqual(record);
  });

  it('creates many records from an array, in order', async () => {
    const records = await client.service(name).create([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(records.map((r: any) => r.n)).toEqual([1, 2, 3]);
    expect(new Set(records.map((r: any) => r._id)).size).toBe(3);
  });

  it('paginates with a default of 100 and a maximum of 1000', async () => {
    const service = client.service(`${name}-pages`);
    await service.create(Array.from({ length: 1050 }, (_, i) => ({ i })));
    const first = await service.find();
    expect(first).toMatchObject({ total: 1050, limit: 100, skip: 0 });
    expect(first.data).toHaveLength(100);
    const capped = await service.find({ query: { $limit: 5000 } });
    expect(capped.limit).toBe(1000);
    expect(capped.data).toHaveLength(1000);
    const last = await service.find({ query: { $skip: 1040, $sort: { i: 1 } } });
    expect(last.data.map((r: any) => r.i)).toEqual([1040, 1041, 1042, 1043, 1044, 1045, 1046, 1047, 1048, 1049]);
    const count = await service.find({ query: { $limit: 0 } });
    expect(count).toEqual({ total: 1050, limit: 0, skip: 0, data: [] });
  });

  describe('query operators', () => {
    const ops = `${name}-ops`;
    beforeAll(async () => {
      await client.service(ops).create([
        { key: 'a', n: 1, flag: true, tags: ['red', 'blue'], hp: { lr: 0.1, opt: 'adam' } },
        { key: 'b', n: 2, flag: false, tags: ['blue'], hp: { lr: 0.01, opt: 'sgd' } },
        { key: 'c', n: 3, flag: true, tags: [], hp: { lr: 0.001, opt: 'adam' } },
        { key: 'd', n: 4 },
      ]);
    });
    const keys = async (query: object) =>
      (await client.service(ops).find({ query: { ...query, $sort: { key: 1 } } })).data.map((r: any) => r.key);

    it('equality, on scalars and inside arrays, and booleans', async () => {
      expect(await keys({ n: 2 })).toEqual(['b']);
      expect(await keys({ tags: 'blue' })).toEqual(['a', 'b']);
      expect(await keys({ flag: true })).toEqual(['a', 'c']);
    });
    it('$in and $nin', async () => {
      expect(await keys({ n: { $in: [1, 3, 9] } })).toEqual(['a', 'c']);
      expect(await keys({ key: { $nin: ['a', 'b'] } })).toEqual(['c', 'd']);
    });
    it('$lt $lte $gt $gte $ne', async () => {
      expect(await keys({ n: { $lt: 2 } })).toEqual(['a']);
      expect(await keys({ n: { $lte: 2 } })).toEqual(['a', 'b']);
      expect(await keys({ n: { $gt: 3 } })).toEqual(['d']);
      expect(await keys({ n: { $gte: 3 } })).toEqual(['c', 'd']);
      expect(await keys({ n: { $ne: 2 } })).toEqual(['a', 'c', 'd']);
    });
    it('$or, $and and $not', async () => {
      expect(await keys({ $or: [{ key: 'a' }, { n: { $gt: 3 } }] })).toEqual(['a', 'd']);
      expect(await keys({ $and: [{ flag: true }, { n: { $gt: 1 } }] })).toEqual(['c']);
      expect(await keys({ n: { $not: { $lt: 3 } } })).toEqual(['c', 'd']);
      expect(await keys({ $not: { flag: true } })).toEqual(['b', 'd']);
    });
    it('dot paths into nested fields', async () => {
      expect(await keys({ 'hp.opt': 'adam', 'hp.lr': { $lt: 0.05 } })).toEqual(['c']);
      const sorted = await client.service(ops).find({ query: { 'hp.lr': { $gt: 0 }, $sort: { 'hp.lr': -1 } } });
      expect(sorted.data.map((r: any) => r.key)).toEqual(['a', 'b', 'c']);
    });
    it('$select, $sort, $skip and $limit', async () => {
      const page = await client
        .service(ops)
        .find({ query: { $select: ['key'], $sort: { n: -1 }, $skip: 1, $limit: 2 } });
      expect(page.total).toBe(4);
      expect(page.data).toEqual([
        { _id: expect.any(String), key: 'c' },
        { _id: expect.any(String), key: 'b' },
      ]);
    });
    it('$distinct answers the distinct values', async () => {
      const values = await client.service(ops).find({ query: { $distinct: 'hp.opt' } });
      expect([...values].sort()).toEqual(['adam', 'sgd']);
    });
    it('compares createdAt as dates', async () => {
      const all = await client
        .service(ops)
        .find({ query: { createdAt: { $lte: new Date(Date.now() + 1000).toISOString() } } });
      expect(all.total).toBe(4);
      const none = await client.service(ops).find({ query: { createdAt: { $gt: new Date(Date.now() + 60_000) } } });
      expect(none.total).toBe(0);
    });
    it('rejects an unknown operator with a BadRequest naming it', async () => {
      await expect(client.service(ops).find({ query: { key: { $regex: 'a' } } })).rejects.toMatchObject({
        name: 'BadRequest',
        code: 400,
        message: expect.stringContaining('$regex'),
      });
    });
  });

  it('update replaces a record, keeping its id, owner and createdAt', async () => {
    const service = client.service(`${name}-update`);
    const created = await service.create({ a: 1, b: 2 });
    const updated = await service.update(created._id, { a: 10 });
    expect(updated).toMatchObject({ _id: created._id, a: 10, createdAt: created.createdAt, userId: created.userId });
    expect(updated.b).toBeUndefined();
    expect(updated.updatedAt >= created.updatedAt).toBe(true);
  });

  it('patch merges one record, with dotted keys setting nested fields', async () => {
    const service = client.service(`${name}-patch`);
    const created = await service.create({ a: 1, hp: { lr: 0.1, opt: 'adam' } });
    const patched = await service.patch(created._id, { b: 2, 'hp.lr': 0.5 });
    expect(patched).toMatchObject({ a: 1, b: 2, hp: { lr: 0.5, opt: 'adam' } });
  });

  it('patch and remove with a null id act on every match', async () => {
    const service = client.service(`${name}-multi`);
    await service.create([
      { group: 'x', v: 1 },
      { group: 'x', v: 2 },
      { group: 'y', v: 3 },
    ]);
    const patched = await service.patch(null, { seen: true }, { query: { group: 'x' } });
    expect(patched).toHaveLength(2);
    expect((await service.find({ query: { seen: true } })).total).toBe(2);
    const removed = await service.remove(null, { query: { group: 'x' } });
    expect(removed.map((r: any) => r.v).sort()).toEqual([1, 2]);
    expect((await service.find()).total).toBe(1);
  });

  it('remove answers the removed record, and get then fails with NotFound', async () => {
    const service = client.service(`${name}-remove`);
    const created = await service.create({ a: 1 });
    expect(await service.remove(created._id)).toEqual(created);
    await expect(service.get(created._id)).rejects.toMatchObject({ name: 'NotFound', code: 404 });
  });

  it('emits created, updated, patched and removed events', async () => {
    const path = `${name}-events`;
    const events = listener.service(path);
    const service = client.service(path);
    const created = nextEvent(events, 'created');
    const record = await service.create({ a: 1 });
    expect(await created).toEqual(record);
    const updated = nextEvent(events, 'updated');
    await service.update(record._id, { a: 2 });
    expect((await updated).a).toBe(2);
    const patched = nextEvent(events, 'patched');
    await service.patch(record._id, { a: 3 });
    expect((await patched).a).toBe(3);
    const removed = nextEvent(events, 'removed');
    await service.remove(record._id);
    expect((await removed)._id).toBe(record._id);
  });

  it('does not send events about records the listener may not read', async () => {
    const path = `${name}-private`;
    await server.createUser(`other-${transport}@example.com`, PASSWORD);
    const other = await connectClient(server.url, transport, `other-${transport}@example.com`);
    const seen: any[] = [];
    listener.service(path).on('created', (record: any) => seen.push(record));
    const visible = nextEvent(listener.service(path), 'created', (r) => r.label === 'public');
    await other.service(path).create({ label: 'private' });
    await other.service(path).create({ label: 'public', public: true });
    await visible;
    expect(seen.map((r) => r.label)).toEqual(['public']);
  });

  it('authenticates, and refuses a wrong password and a missing token', async () => {
    const anonymous = feathers();
    if (transport === 'rest') anonymous.configure(rest(server.url).fetch(fetch));
    else {
      const socket = io(server.url, { transports: ['websocket'], forceNew: true });
      sockets.push(socket);
      anonymous.configure(socketio(socket as any));
    }
    anonymous.configure(authentication());
    await expect(anonymous.service(name).find()).rejects.toMatchObject({ name: 'NotAuthenticated', code: 401 });
    await expect(
      anonymous.authenticate({ strategy: 'local', email, password: 'wrong password' }),
    ).rejects.toMatchObject({
      name: 'NotAuthenticated',
    });
    const result = await anonymous.authenticate({ strategy: 'local', email, password: PASSWORD });
    expect(result.user.email).toBe(email);
    expect(result.user.password).toBeUndefined();
    expect((await anonymous.service(name).find({ query: { $limit: 0 } })).total).toBeGreaterThan(0);
  });

  it('accepts an API key as a bearer token', async () => {
    const key = await client.service('api-keys').create({ name: 'protocol test' });
    expect(key.token).toMatch(/^lk_/);
    const viaKey = feathers();
    if (transport === 'rest') viaKey.configure(rest(server.url).fetch(fetch));
    else {
      const socket = io(server.url, { transports: ['websocket'], forceNew: true });
      sockets.push(socket);
      viaKey.configure(socketio(socket as any));
    }
    viaKey.configure(authentication());
    const result = await viaKey.authenticate({ strategy: 'jwt', accessToken: key.token });
    expect(result.user.email).toBe(email);
    expect((await viaKey.service(name).find({ query: { $limit: 0 } })).total).toBeGreaterThan(0);
  });
});
