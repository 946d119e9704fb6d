/**
 * End-to-end tests of the SDK against a real Larder server (SQLite in a temp folder, a free
 * port), over both transports: CRUD, the query language, paging, typed errors, realtime
 * events and their access control, login, and URL/token resolution.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestServer, type TestServer } from '../../server/test/support/test-server.js';
import {
  type DataRecord,
  DataStore,
  type DataStoreOptions,
  LarderError,
  type Query,
  type ServiceEvent,
  writeCredentials,
} from '../src/index.js';

interface Run extends DataRecord {
  name: string;
  kind?: string;
  score?: number;
  public?: boolean;
  flag?: boolean;
  batch?: string;
  index?: number;
  hparams?: { lr: number; opt: string };
  userId?: string;
}

type TransportName = 'rest' | 'socket';

const PASSWORD = 'correct horse battery';
const ENV_KEYS = ['LARDER_URL', 'LARDER_TOKEN', 'LARDER_CREDENTIALS'] as const;

let server: TestServer;
let openServer: TestServer;
let scratch: string;
let alice: { id: string; token: string; email: string };
let bob: { id: string; token: string; email: string };
let savedEnv: Record<string, string | undefined>;
/** Every DataStore a test opens, closed after it. */
let stores: DataStore[] = [];
let serviceCounter = 0;

beforeAll(async () => {
  savedEnv = Object.fromEntries(ENV_KEYS.map((key) => [key, process.env[key]]));
  scratch = await mkdtemp(join(tmpdir(), 'larder-client-it-'));
  process.env.LARDER_CREDENTIALS = join(scratch, 'absent', 'credentials.json');
  delete process.env.LARDER_URL;
  delete process.env.LARDER_TOKEN;
  [server, openServer] = await Promise.all([startTestServer(), startTestServer({ auth: false })]);
  alice = await server.createUser('alice@example.org', PASSWORD);
  bob = await server.createUser('bob@example.org', PASSWORD);
});

afterEach(async () => {
  const open = stores;
  stores = [];
  await Promise.all(open.map((store) => store.close()));
  // Environment tests change these; the next test starts from the isolated state again.
  process.env.LARDER_CREDENTIALS = join(scratch, 'absent', 'credentials.json');
  delete process.env.LARDER_URL;
  delete process.env.LARDER_TOKEN;
});

afterAll(async () => {
  await Promise.all([server?.close(), openServer?.close()]);
  for (const key of ENV_KEYS) {
    const value = savedEnv[key];
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

function open(options: DataStoreOptions): DataStore {
  // A short timeout turns a hang into a readable Timeout failure.
  const store = new DataStore({ timeout: 10_000, ...options });
  stores.push(store);
  return store;
}

/** A service name no other test uses. */
function freshName(prefix: string, transport: TransportName): string {
  serviceCounter += 1;
  return `${prefix}-${transport}-${serviceCounter}`;
}

/** The error a promise rejects with (fails when it resolves). */
async function rejection(promise: Promise<unknown>): Promise<LarderError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(LarderError);
    return error as LarderError;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** A TCP port on loopback where nothing listens. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** Retries `call` while the server is still coming back (Unavailable, Timeout), for up to 20 s. */
async function eventually<R>(call: () => Promise<R>): Promise<R> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      const transient = error instanceof LarderError && (error.name === 'Unavailable' || error.name === 'Timeout');
      if (!transient || Date.now() > deadline) throw error;
    }
  }
}

/** Fails with `message` when `promise` has not settled within `ms` (a guard, not a synchronisation). */
async function guarded<R>(promise: Promise<R>, ms: number, message: string): Promise<R> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

const SAMPLE: Omit<Run, '_id'>[] = [
  { name: 'a', kind: 'x', score: 1, flag: true, hparams: { lr: 0.1, opt: 'sgd' } },
  { name: 'b', kind: 'x', score: 2, flag: false, hparams: { lr: 0.01, opt: 'adam' } },
  { name: 'c', kind: 'y', score: 3, flag: true, hparams: { lr: 0.001, opt: 'adam' } },
  { name: 'd', kind: 'y', score: 4, flag: false, hparams: { lr: 0.1, opt: 'sgd' } },
  { name: 'e', kind: 'z', score: 5, flag: true, hparams: { lr: 0.5, opt: 'rmsprop' } },
];

describe.each<TransportName>(['rest', 'socket'])('DataStore over %s against a real server', (transport) => {
  describe('records', () => {
    it('creates one record and answers it as stored, owned by the caller', async () => {
      const runs = open({ url: server.url, token: alice.token, transport }).service<Run>(freshName('runs', transport));
      const created = await runs.create({ name: 'one', score: 1, hparams: { lr: 0.1, opt: 'sgd' } });
      expect(created).toMatchObject({ name: 'one', score: 1, hparams: { lr: 0.1, opt: 'sgd' }, userId: alice.id });
      expect(typeof created._id).toBe('string');
      expect(created.createdAt).toBe(created.updatedAt);
      expect(Number.isNaN(Date.parse(created.createdAt ?? ''))).toBe(false);
      expect(await runs.get(created._id)).toEqual(created);
    });

    it('creates many records from an array, in order', async () => {
      const runs = open({ url: server.url, token: alice.token, transport }).service<Run>(freshName('runs', transport));
      const created = await runs.create([{ name: 'p' }, { name: 'q' }, { name: 'r' }]);
      expect(Array.isArray(created)).toBe(true);
      expect(created.map((run) => run.name)).toEqual(['p', 'q', 'r']);
      expect(new Set(created.map((run) => run._id)).size).toBe(3);
      for (const run of created) expect(await runs.get(run._id)).toEqual(run);
      const page = await runs.find({ query: { $sort: { name: -1 } } });
      expect(page.total).toBe(3);
      expect(page.data.map((run) => run.name)).toEqual(['r', 'q', 'p']);
    });

    it('keeps a client-chosen _id where the caller may choose one (admins, --no-auth), refuses it to users', async () => {
      const name = freshName('runs', transport);
      const runs = open({ url: server.url, token: server.adminToken, transport }).service<Run>(name);
      const created = await runs.create({ _id: 'my-id.1', name: 'chosen' });
      expect(created._id).toBe('my-id.1');
      expect((await runs.get('my-id.1')).name).toBe('chosen');
      const local = open({ url: openServer.url, transport }).service<Run>(name);
      expect((await local.create({ _id: 'my-id.2', name: 'chosen' }))._id).toBe('my-id.2');
      // An ordinary user on a multi-user server: a taken id would reveal someone else's record.
      const mine = open({ url: server.url, token: alice.token, transport }).service<Run>(name);
      await expect(mine.create({ _id: 'my-id.3', name: 'chosen' })).rejects.toMatchObject({
        code: 400,
        message: expect.stringMatching(/Larder chooses record ids/),
      });
    });

    it('reads, patches and removes a record whose id holds ":" and "@" (allowed in ids)', async () => {
      const runs = open({ url: server.url, token: server.adminToken, transport }).service<Run>(
        freshName('runs', transport),
      );
      const id = 'run:2024@host-1';
      await runs.create({ _id: id, name: 'colon' });
      expect((await runs.get(id)).name).toBe('colon');
      expect((await runs.patch(id, { name: 'patched' })).name).toBe('patched');
      expect((await runs.update(id, { name: 'updated' })).name).toBe('updated');
      expect((await runs.remove(id))._id).toBe(id);
    });

    it('updates (replaces) a record, keeping _id, owner and createdAt', async () => {
      const runs = open({ url: server.url, token: alice.token, transport }).service<Run>(freshName('runs', transport));
      const created = await runs.create({ name: 'old', kind: 'x', score: 3 });
      const updated = await runs.update(created._id, { name: 'new', kind: 'y' });
      expect(updated).toMatchObject({ _id: created._id, name: 'new', kind: 'y', userId: alice.id });
      expect(updated).not.toHaveProperty('score');
      expect(updated.createdAt).toBe(created.createdAt);
      expect(await runs.get(created._id)).toEqual(updated);
    });

    it('patches one record, merging top-level and dotted fields', async () => {
      const runs = open({ url: server.url, token: alice.token, transport }).service<Run>(freshName('runs', transport));
      const created = await runs.create({ name: 'p', score: 1, hparams: { lr: 0.1, opt: 'sgd' } });
      const patched = await runs.patch(created._id, { score: 2, 'hparams.lr': 0.2 } as Partial<Run>);
      expect(patched).toMatchObject({ _id: created._id, name: 'p', score: 2, hparams: { lr: 0.2, opt: 'sgd' } });
      expect(await runs.get(created._id)).toEqual(patched);
    });

    it('patches every match of a query when id is null', async () => {
      const runs = open({ url: server.url, token: alice.token, transport }).service<Run>(freshName('runs', transport));
      await runs.create(SAMPLE);
      const patched = await runs.patch(null, { flag: true, kind: 'x2' }, { query: { kind: 'x' } });
      expect(patched.map((run) => run.name).sort()).toEqual(['a', 'b']);
      for (const run of patched) expect(run).toMatchObject({ flag: true, kind: 'x2' });
      const { data } = await runs.find({ query: { kind: 'x2', $sort: { name: 1 } } });
      expect(data.map((run) => run.name)).toEqual(['a', 'b']);
      expect((await runs.find({ query: { kind: 'x', $limit: 0 } })).total).toBe(0);
      // The others are untouched.
      expect((await runs.find({ query: { kind: 'y', $limit: 0 } })).total).toBe(2);
    });

    it('removes one record, which is then NotFound', async () => {
      const runs = open({ url: server.url, token: alice.token, transport }).service<Run>(freshName('runs', transport));
      const [first, second] = await runs.create([{ name: 'gone' }, { name: 'kept' }]);
      const removed = await runs.remove(first!._id);
      expect(removed).toMatchObject({ _id: first!._id, name: 'gone' });
      expect((await rejection(runs.get(first!._id))).name).toBe('NotFound');
      expect((await runs.get(second!._id)).name).toBe('kept');
    });

    it('removes every match of a query when id is null', async () => {
      const runs = open({ url: server.url, token: alice.token, transport }).service<Run>(freshName('runs', transport));
      await runs.create(SAMPLE);
      const removed = await runs.remove(null, { query: { kind: 'y' } });
      expect(removed.map((run) => run.name).sort()).toEqual(['c', 'd']);
      const { total, data } = await runs.find({ query: { $sort: { name: 1 } } });
      expect(total).toBe(3);
      expect(data.map((run) => run.name)).toEqual(['a', 'b', 'e']);
    });

    it("does not let one user change or see another user's private record", async () => {
      const name = freshName('runs', transport);
      const own = open({ url: server.url, token: alice.token, transport }).service<Run>(name);
      const other = open({ url: server.url, token: bob.token, transport }).service<Run>(name);
      const secret = await own.create({ name: 'secret' });
      const shared = await own.create({ name: 'shared', public: true });
      expect((await rejection(other.get(secret._id))).name).toBe('NotFound');
      expect((await other.get(shared._id)).name).toBe('shared');
      expect((await rejection(other.patch(shared._id, { name: 'taken' }))).name).toBe('Forbidden');
      expect((await other.find()).data.map((run) => run.name)).toEqual(['shared']);
    });
  });

  describe('find and the query language', () => {
    let name: string;
    const names = async (query: Query): Promise<string[]> => {
      const runs = open({ url: server.url, token: alice.token, transport }).service<Run>(name);
      const { data } = await runs.find({ query: { $sort: { name: 1 }, ...query } });
      return data.map((run) => run.name);
    };

    beforeAll(async () => {
      name = freshName('query', transport);
      const store = new DataStore({ url: server.url, token: alice.token, transport });
      try {
        await store.service<Run>(name).create(SAMPLE);
      } finally {
        await store.close();
      }
    });

    it('answers a page with total, limit and skip', async () => {
      const runs = open({ url: server.url, token: alice.token, transport }).service<Run>(name);
      const page = await runs.find({ query: { $sort: { score: 1 }, $skip: 1, $limit: 2 } });
      expect(page).toMatchObject({ total: 5, limit: 2, skip: 1 });
      expect(page.data.map((run) => run.name)).toEqual(['b', 'c']);
      const last = await runs.find({ query: { $sort: { score: 1 }, $skip: 4, $limit: 2 } });
      expect(last.data.map((run) => run.name)).toEqual(['e']);
      const all = await runs.find();
      expect(all).toMatchObject({ total: 5, limit: 100, skip: 0 });
      expect(all.data).toHaveLength(5);
    });

    it('counts with $limit: 0', async () => {
      const runs = open({ url: server.url, token: alice.token, transport }).service<Run>(name);
      expect(await runs.find({ query: { $limit: 0 } })).toEqual({ total: 5, limit: 0, skip: 0, data: [] });
      expect((await runs.find({ query: { kind: 'y', $limit: 0 } })).total).toBe(2);
    });

    it('matches equality on strings, numbers and booleans', async () => {
      expect(await names({ kind: 'x' })).toEqual(['a', 'b']);
      expect(await names({ score: 3 })).toEqual(['c']);
      expect(await names({ flag: true })).toEqual(['a', 'c', 'e']);
      expect(await names({ flag: false })).toEqual(['b', 'd']);
    });

    it('supports $in and $nin', async () => {
      expect(await names({ kind: { $in: ['x', 'z'] } })).toEqual(['a', 'b', 'e']);
      expect(await names({ score: { $in: [2, 4] } })).toEqual(['b', 'd']);
      expect(await names({ kind: { $nin: ['x', 'z'] } })).toEqual(['c', 'd']);
      expect(await names({ score: { $nin: [1, 5] } })).toEqual(['b', 'c', 'd']);
    });

    it('supports $lt, $lte, $gt, $gte on numbers', async () => {
      expect(await names({ score: { $lt: 3 } })).toEqual(['a', 'b']);
      expect(await names({ score: { $lte: 3 } })).toEqual(['a', 'b', 'c']);
      expect(await names({ score: { $gt: 3 } })).toEqual(['d', 'e']);
      expect(await names({ score: { $gte: 3 } })).toEqual(['c', 'd', 'e']);
      expect(await names({ score: { $gt: 1, $lt: 5 } })).toEqual(['b', 'c', 'd']);
    });

    it('supports $lt and $gte on strings', async () => {
      expect(await names({ name: { $lt: 'c' } })).toEqual(['a', 'b']);
      expect(await names({ name: { $gte: 'd' } })).toEqual(['d', 'e']);
    });

    it('supports $ne', async () => {
      expect(await names({ kind: { $ne: 'y' } })).toEqual(['a', 'b', 'e']);
      expect(await names({ score: { $ne: 1 } })).toEqual(['b', 'c', 'd', 'e']);
    });

    it('supports $or and $and', async () => {
      expect(await names({ $or: [{ kind: 'x' }, { score: { $gte: 5 } }] })).toEqual(['a', 'b', 'e']);
      expect(await names({ $and: [{ kind: { $in: ['x', 'y'] } }, { score: { $gt: 1 } }] })).toEqual(['b', 'c', 'd']);
      expect(await names({ $or: [{ $and: [{ kind: 'y' }, { flag: true }] }, { name: 'a' }] })).toEqual(['a', 'c']);
    });

    it('supports $not on a field and on a whole condition', async () => {
      expect(await names({ score: { $not: { $gt: 2 } } })).toEqual(['a', 'b']);
      expect(await names({ kind: { $not: 'x' } })).toEqual(['c', 'd', 'e']);
      expect(await names({ $not: { kind: 'y' } })).toEqual(['a', 'b', 'e']);
    });

    it('queries, sorts and selects nested fields by dot paths', async () => {
      expect(await names({ 'hparams.opt': 'adam' })).toEqual(['b', 'c']);
      expect(await names({ 'hparams.lr': 0.1 })).toEqual(['a', 'd']);
      expect(await names({ 'hparams.lr': { $lt: 0.05 } })).toEqual(['b', 'c']);
      expect(await names({ hparams: { opt: 'sgd' } })).toEqual(['a', 'd']);
      const runs = open({ url: server.url, token: alice.token, transport }).service<Run>(name);
      const sorted = await runs.find({ query: { $sort: { 'hparams.lr': -1, name: 1 } } });
      expect(sorted.data.map((run) => run.name)).toEqual(['e', 'a', 'd', 'b', 'c']);
      const selected = await runs.find({ query: { name: 'a', $select: ['hparams.opt'] } });
      expect(selected.data).toEqual([{ _id: expect.any(String), hparams: { opt: 'sgd' } }]);
    });

    it('keeps only the $select fields (and _id)', async () => {
      const runs = open({ url: server.url, token: alice.token, transport }).service<Run>(name);
      const { data } = await runs.find({ query: { $select: ['name', 'score'], $sort: { score: -1 }, $limit: 2 } });
      expect(data).toEqual([
        { _id: expect.any(String), name: 'e', score: 5 },
        { _id: expect.any(String), name: 'd', score: 4 },
      ]);
      const one = await runs.get(data[0]!._id, { query: { $select: ['kind'] } });
      expect(one).toEqual({ _id: data[0]!._id, kind: 'z' });
    });

    it('sorts by several keys in both directions', async () => {
      const runs = open({ url: server.url, token: alice.token, transport }).service<Run>(name);
      const { data } = await runs.find({ query: { $sort: { kind: -1, score: 1 } } });
      expect(data.map((run) => run.name)).toEqual(['e', 'c', 'd', 'a', 'b']);
    });

    it('matches a field whose name holds brackets literally, not as a nested path', async () => {
      const runs = open({ url: server.url, token: alice.token, transport }).service<Run>(
        freshName('fields', transport),
      );
      await runs.create([
        { name: 'literal', 'a[b]': 1 },
        { name: 'nested', a: { b: 1 } },
      ]);
      // Either the literal field matches, or the SDK refuses the query: never the other record.
      const found = await runs.find({ query: { 'a[b]': 1 } }).then(
        (page) => page.data.map((run) => run.name),
        (error: LarderError) => [error.name],
      );
      expect([['literal'], ['BadRequest']]).toContainEqual(found);
    });

    it('never drops a condition on a field named like an Object.prototype property', async () => {
      const runs = open({ url: server.url, token: alice.token, transport }).service<Run>(
        freshName('fields', transport),
      );
      await runs.create([{ name: 'target', constructor: 'x' } as Omit<Run, '_id'>, { name: 'bystander' }]);
      // A dropped condition would make this remove every record of the caller.
      const removed = await runs.remove(null, { query: { constructor: 'x' } }).then(
        (records) => records.map((run) => run.name),
        (error: LarderError) => [error.name],
      );
      expect([['target'], ['BadRequest']]).toContainEqual(removed);
      expect((await runs.find({ query: { name: 'bystander', $limit: 0 } })).total).toBe(1);
    });

    it('answers the distinct values of a field with $distinct', async () => {
      const runs = open({ url: server.url, token: alice.token, transport }).service<Run>(name);
      const kinds = (await runs.find({ query: { $distinct: 'kind' } })) as unknown as string[];
      expect([...kinds].sort()).toEqual(['x', 'y', 'z']);
      const opts = (await runs.find({
        query: { $distinct: 'hparams.opt', kind: { $ne: 'z' } },
      })) as unknown as string[];
      expect([...opts].sort()).toEqual(['adam', 'sgd']);
    });
  });

  describe('items()', () => {
    it('iterates over 250 records in pages of 100, yielding each exactly once', async () => {
      const runs = open({ url: server.url, token: alice.token, transport }).service<Run>(freshName('items', transport));
      const created = await runs.create(Array.from({ length: 250 }, (_, index) => ({ name: `r${index}`, index })));
      expect(created).toHaveLength(250);
      // The server's default page is 100, not all 250.
      expect(await runs.find()).toMatchObject({ total: 250, limit: 100 });
      const seen: string[] = [];
      for await (const run of runs.items({}, { pageSize: 100 })) seen.push(run._id);
      expect(seen).toHaveLength(250);
      expect(new Set(seen).size).toBe(250);
      expect(new Set(seen)).toEqual(new Set(created.map((run) => run._id)));

      const sorted: number[] = [];
      for await (const run of runs.items({ $sort: { index: -1 } }, { pageSize: 100 })) sorted.push(run.index!);
      expect(sorted).toEqual(Array.from({ length: 250 }, (_, index) => 249 - index));
    });

    it('honours a query, $skip and $limit', async () => {
      const runs = open({ url: server.url, token: alice.token, transport }).service<Run>(freshName('items', transport));
      await runs.create(
        Array.from({ length: 30 }, (_, index) => ({ name: `r${index}`, index, even: index % 2 === 0 })),
      );
      const picked: number[] = [];
      for await (const run of runs.items({ even: true, $sort: { index: 1 }, $skip: 2, $limit: 7 }, { pageSize: 3 })) {
        picked.push(run.index!);
      }
      expect(picked).toEqual([4, 6, 8, 10, 12, 14, 16]);
    });
  });

  describe('typed errors', () => {
    it("rejects get of an unknown id with a NotFound carrying the server's message", async () => {
      const runs = open({ url: server.url, token: alice.token, transport }).service<Run>(
        freshName('errors', transport),
      );
      await runs.create({ name: 'exists' });
      const error = await rejection(runs.get('no-such-id'));
      expect(error.name).toBe('NotFound');
      expect(error.code).toBe(404);
      expect(error.message).toBe("No record found for id 'no-such-id'");
    });

    it('rejects an unknown query operator with a BadRequest', async () => {
      const runs = open({ url: server.url, token: alice.token, transport }).service<Run>(
        freshName('errors', transport),
      );
      await runs.create({ name: 'exists' });
      const onField = await rejection(runs.find({ query: { name: { $regex: 'ex' } } }));
      expect(onField.name).toBe('BadRequest');
      expect(onField.code).toBe(400);
      expect(onField.message).toBe('Unknown query operator $regex on field "name"');
      const topLevel = await rejection(runs.find({ query: { $where: 'x' } }));
      expect(topLevel.name).toBe('BadRequest');
      expect(topLevel.message).toBe('Unknown query operator $where');
    });

    it('rejects patch and remove of an unknown id with NotFound', async () => {
      const runs = open({ url: server.url, token: alice.token, transport }).service<Run>(
        freshName('errors', transport),
      );
      expect((await rejection(runs.patch('missing', { name: 'x' }))).name).toBe('NotFound');
      expect((await rejection(runs.remove('missing'))).name).toBe('NotFound');
    });
  });

  describe('realtime events', () => {
    it('listening() resolves once on() is live, so the next write is seen', async () => {
      const name = freshName('listening', transport);
      const store = open({ url: server.url, token: alice.token, transport });
      const created = new Promise<Run>((resolve) => store.service<Run>(name).on('created', resolve));
      await store.listening();
      const writer = open({ url: server.url, token: alice.token, transport: 'rest' }).service<Run>(name);
      const run = await writer.create({ name: 'after listening' });
      expect((await created)._id).toBe(run._id);
    });

    it('receives created, patched and removed for writes by the same user through another DataStore', async () => {
      const name = freshName('events', transport);
      const listener = open({ url: server.url, token: alice.token, transport }).service<Run>(name);
      const writer = open({ url: server.url, token: alice.token, transport }).service<Run>(name);
      const created = new Promise<Run>((resolve) => listener.on('created', resolve));
      const patched = new Promise<Run>((resolve) => listener.on('patched', resolve));
      const removed = new Promise<Run>((resolve) => listener.on('removed', resolve));
      // Any call on the listener waits for its event socket to be connected and signed in.
      await listener.find({ query: { $limit: 0 } });

      const run = await writer.create({ name: 'live' });
      expect(await created).toMatchObject({ _id: run._id, name: 'live', userId: alice.id });
      await writer.patch(run._id, { name: 'patched' });
      expect(await patched).toMatchObject({ _id: run._id, name: 'patched' });
      await writer.remove(run._id);
      expect(await removed).toMatchObject({ _id: run._id, name: 'patched' });
    });

    it("does not receive events of another user's private records", async () => {
      const name = freshName('events', transport);
      const listener = open({ url: server.url, token: alice.token, transport }).service<Run>(name);
      const writer = open({ url: server.url, token: bob.token, transport }).service<Run>(name);
      const log: string[] = [];
      let done!: () => void;
      const finished = new Promise<void>((resolve) => {
        done = resolve;
      });
      for (const event of ['created', 'patched', 'removed'] as ServiceEvent[]) {
        listener.on(event, (run) => {
          log.push(`${event} ${run.name}`);
          if (event === 'removed' && run.name === 'shared') done();
        });
      }
      await listener.find({ query: { $limit: 0 } });

      // Each private write comes first: had it been delivered, it would have arrived first.
      const secret = await writer.create({ name: 'secret' });
      const shared = await writer.create({ name: 'shared', public: true });
      await writer.patch(secret._id, { score: 1 });
      await writer.patch(shared._id, { score: 1 });
      await writer.remove(secret._id);
      await writer.remove(shared._id);
      await finished;
      expect(log).toEqual(['created shared', 'patched shared', 'removed shared']);
    });

    it('emits updated, and one event per record for multi-record writes, in order', async () => {
      const name = freshName('events', transport);
      const listener = open({ url: server.url, token: alice.token, transport }).service<Run>(name);
      const writer = open({ url: server.url, token: alice.token, transport }).service<Run>(name);
      const log: string[] = [];
      let done!: () => void;
      const finished = new Promise<void>((resolve) => {
        done = resolve;
      });
      for (const event of ['created', 'updated', 'patched', 'removed'] as ServiceEvent[]) {
        listener.on(event, (run) => {
          log.push(`${event} ${run.name}`);
          if (run.name === 'end') done();
        });
      }
      await listener.find({ query: { $limit: 0 } });

      const [first] = await writer.create([
        { name: 'a', kind: 'k' },
        { name: 'b', kind: 'k' },
      ]);
      await writer.update(first!._id, { name: 'a2', kind: 'k' });
      await writer.patch(null, { score: 1 }, { query: { kind: 'k', $sort: { name: 1 } } });
      await writer.remove(null, { query: { kind: 'k' } });
      await writer.create({ name: 'end' });
      await finished;
      expect(log.slice(0, 3)).toEqual(['created a', 'created b', 'updated a2']);
      expect(log.slice(3, 5).sort()).toEqual(['patched a2', 'patched b']);
      expect(log.slice(5, 7).sort()).toEqual(['removed a2', 'removed b']);
      expect(log.slice(7)).toEqual(['created end']);
    });

    it('stops calling a handler after off()', async () => {
      const name = freshName('events', transport);
      const listener = open({ url: server.url, token: alice.token, transport }).service<Run>(name);
      const writer = open({ url: server.url, token: alice.token, transport }).service<Run>(name);
      const callsAfterOff: string[] = [];
      const handler = (run: Run) => callsAfterOff.push(run.name);
      listener.on('created', handler);
      const second = new Promise<Run>((resolve) => listener.on('created', resolve));
      await listener.find({ query: { $limit: 0 } });
      listener.off('created', handler);
      await listener.find({ query: { $limit: 0 } });
      await writer.create({ name: 'after-off' });
      expect((await second).name).toBe('after-off');
      expect(callsAfterOff).toEqual([]);
    });
  });

  describe('authentication', () => {
    it('logs in with email and password, then calls succeed as that user', async () => {
      const store = open({ url: server.url, transport });
      const runs = store.service<Run>(freshName('auth', transport));
      expect((await rejection(runs.find())).name).toBe('NotAuthenticated');
      const result = await store.authenticate({ email: alice.email, password: PASSWORD });
      expect(typeof result.accessToken).toBe('string');
      expect(result.user).toMatchObject({ _id: alice.id, email: alice.email });
      expect(result.user).not.toHaveProperty('password');
      const created = await runs.create({ name: 'mine' });
      expect(created.userId).toBe(alice.id);
      expect((await runs.find()).data.map((run) => run.name)).toEqual(['mine']);
    });

    it('delivers events to a listener that logged in after subscribing', async () => {
      const name = freshName('auth', transport);
      const store = open({ url: server.url, transport });
      const listener = store.service<Run>(name);
      const created = new Promise<Run>((resolve) => listener.on('created', resolve));
      await store.authenticate({ email: alice.email, password: PASSWORD });
      await listener.find({ query: { $limit: 0 } });
      const writer = open({ url: server.url, token: alice.token, transport }).service<Run>(name);
      const run = await writer.create({ name: 'seen' });
      expect((await created)._id).toBe(run._id);
    });

    it('recovers from a wrong token by logging in', async () => {
      const name = freshName('auth', transport);
      const store = open({ url: server.url, token: 'not-a-real-token', transport });
      const runs = store.service<Run>(name);
      const created = new Promise<Run>((resolve) => runs.on('created', resolve));
      expect((await rejection(runs.find())).name).toBe('NotAuthenticated');
      await store.authenticate({ email: bob.email, password: PASSWORD });
      expect((await runs.find()).total).toBe(0);
      const writer = open({ url: server.url, token: bob.token, transport }).service<Run>(name);
      const run = await writer.create({ name: 'after-login' });
      expect((await created)._id).toBe(run._id);
    });

    it('rejects a wrong password with NotAuthenticated', async () => {
      const store = open({ url: server.url, transport });
      const error = await rejection(store.authenticate({ email: alice.email, password: 'wrong password' }));
      expect(error.name).toBe('NotAuthenticated');
    });

    it('rejects calls with a wrong token with NotAuthenticated', async () => {
      const runs = open({ url: server.url, token: 'not-a-real-token', transport }).service<Run>(
        freshName('auth', transport),
      );
      expect((await rejection(runs.find())).name).toBe('NotAuthenticated');
      const unknownKey = open({ url: server.url, token: 'lk_unknown0000000000000000000000', transport });
      expect((await rejection(unknownKey.service('things').find())).name).toBe('NotAuthenticated');
    });

    it('accepts an API key as the token', async () => {
      const name = freshName('auth', transport);
      const mine = await open({ url: server.url, token: bob.token, transport })
        .service<Run>(name)
        .create({ name: 'bobs' });
      const admin = open({ url: server.url, token: server.adminToken, transport }).service<Run>(name);
      expect((await admin.get(mine._id)).name).toBe('bobs');
    });

    it('fails with Unavailable when nothing listens at the URL', async () => {
      const port = await closedPort();
      const runs = open({ url: `http://127.0.0.1:${port}`, token: alice.token, transport }).service<Run>('runs');
      const error = await rejection(runs.find());
      expect(error.name).toBe('Unavailable');
    });

    it('fails with Unavailable after close()', async () => {
      const store = open({ url: server.url, token: alice.token, transport });
      await store.service('runs').find({ query: { $limit: 0 } });
      await store.close();
      expect((await rejection(store.service('runs').find())).name).toBe('Unavailable');
    });

    it('works without a token against a server with auth off', async () => {
      const name = freshName('open', transport);
      const store = open({ url: openServer.url, transport });
      const runs = store.service<Run>(name);
      const created = new Promise<Run>((resolve) => runs.on('created', resolve));
      await runs.find({ query: { $limit: 0 } });
      const writer = open({ url: openServer.url, transport }).service<Run>(name);
      const run = await writer.create({ name: 'anyone' });
      expect((await created)._id).toBe(run._id);
      expect(await runs.get(run._id)).toEqual(run);
      expect((await runs.find({ query: { name: 'anyone' } })).total).toBe(1);
      await runs.patch(run._id, { name: 'changed' });
      expect((await runs.remove(run._id)).name).toBe('changed');
    });
  });

  describe('server restart', () => {
    it('reconnects after the server restarts: calls succeed and events resume', async () => {
      const dataDir = await mkdtemp(join(scratch, 'restart-'));
      let running = await startTestServer({ dataDir });
      try {
        const user = await running.createUser('carol@example.org', PASSWORD);
        const { port } = running.server;
        const name = freshName('restart', transport);
        const listener = open({ url: running.url, token: user.token, transport, timeout: 5_000 }).service<Run>(name);
        const writer = open({ url: running.url, token: user.token, transport, timeout: 5_000 }).service<Run>(name);
        const seen: string[] = [];
        let resume!: () => void;
        const resumed = new Promise<void>((resolve) => {
          resume = resolve;
        });
        listener.on('created', (run) => {
          seen.push(run.name);
          if (run.name === 'after') resume();
        });
        await listener.find({ query: { $limit: 0 } });
        await writer.create({ name: 'before' });

        await running.close();
        running = await startTestServer({ dataDir, port });

        await eventually(() => listener.find({ query: { $limit: 0 } }));
        await eventually(() => writer.create({ name: 'after' }));
        await guarded(resumed, 10_000, 'no created event reached the listener after the restart');
        expect(seen).toEqual(['before', 'after']);
      } finally {
        await running.close();
      }
    }, 60_000);
  });

  describe('URL and token resolution', () => {
    it('takes the URL and token from LARDER_URL and LARDER_TOKEN', async () => {
      process.env.LARDER_URL = server.url;
      process.env.LARDER_TOKEN = alice.token;
      const runs = open({ transport }).service<Run>(freshName('env', transport));
      const created = await runs.create({ name: 'from-env' });
      expect(created.userId).toBe(alice.id);
      expect((await runs.get(created._id)).name).toBe('from-env');
    });

    it('accepts LARDER_URL with a trailing slash', async () => {
      process.env.LARDER_URL = `${server.url}/`;
      process.env.LARDER_TOKEN = bob.token;
      const runs = open({ transport }).service<Run>(freshName('env', transport));
      expect((await runs.create({ name: 'slash' })).userId).toBe(bob.id);
    });

    it('lets options beat the environment', async () => {
      process.env.LARDER_URL = `http://127.0.0.1:${await closedPort()}`;
      process.env.LARDER_TOKEN = 'not-a-real-token';
      const runs = open({ url: server.url, token: bob.token, transport }).service<Run>(freshName('env', transport));
      expect((await runs.create({ name: 'options' })).userId).toBe(bob.id);
    });

    it('combines a URL from the environment with a token from options', async () => {
      process.env.LARDER_URL = server.url;
      const runs = open({ token: alice.token, transport }).service<Run>(freshName('env', transport));
      expect((await runs.create({ name: 'mixed' })).userId).toBe(alice.id);
    });

    it('reads the token for the LARDER_URL server from the credentials file', async () => {
      const file = join(scratch, `credentials-${transport}.json`);
      await writeCredentials(file, server.url, { token: alice.token, email: alice.email });
      process.env.LARDER_CREDENTIALS = file;
      process.env.LARDER_URL = server.url;
      const runs = open({ transport }).service<Run>(freshName('env', transport));
      expect((await runs.create({ name: 'from-file' })).userId).toBe(alice.id);
    });

    it('without any token the server answers NotAuthenticated', async () => {
      process.env.LARDER_URL = server.url;
      const runs = open({ transport }).service<Run>(freshName('env', transport));
      expect((await rejection(runs.find())).name).toBe('NotAuthenticated');
    });
  });
});

describe('a misspelled service name', () => {
  it('warns once, with the name it most likely meant, when a find comes back empty', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const store = open({ url: server.url, token: alice.token });
      await store.service('experiments').create({ name: 'kept' });
      expect((await store.service('experimnets').find()).total).toBe(0);
      await vi.waitFor(() =>
        expect(warn).toHaveBeenCalledWith("larder: no service 'experimnets' yet; did you mean 'experiments'?"),
      );
      await store.service('experimnets').find();
      // A service that holds records, or a name close to none, is never warned about.
      await store.service('experiments').find();
      await store.service('zzzqqq').find();
      const quiet = open({ url: server.url, token: alice.token, warnUnwritten: false });
      await quiet.service('experimnets').find();
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(warn.mock.calls.filter(([line]) => String(line).startsWith('larder: no service'))).toHaveLength(1);
    } finally {
      warn.mockRestore();
    }
  });
});
