import { LarderError } from '@larder/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataStore } from './data-store.js';
import { SocketTransport } from './socket-transport.js';
import { useIsolatedEnvironment } from './test-support/isolated-environment.js';
import { HANG, type RecordingSocketServer, startSocketServer } from './test-support/recording-socket-server.js';

interface Run {
  _id: string;
  name: string;
}

useIsolatedEnvironment();

let server: RecordingSocketServer;
const opened: { close(): unknown }[] = [];

beforeEach(async () => {
  server = await startSocketServer();
});

afterEach(async () => {
  for (const each of opened.splice(0)) await each.close();
  await server.close();
});

function socketStore(options: { token?: string; timeout?: number } = {}): DataStore {
  const store = new DataStore({ url: server.url, transport: 'socket', ...options });
  opened.push(store);
  return store;
}

function calls() {
  return server.emits.map(({ method, path, args }) => [method, path, ...args]);
}

describe('socket RPC', () => {
  it('emits each method with the Feathers argument order and answers the ack result', async () => {
    server.respond = ({ method, args }) => (method === 'find' ? { total: 0, limit: 10, skip: 0, data: [] } : args[0]);
    const runs = socketStore().service<Run>('runs');
    expect(await runs.find({ query: { name: 'a', $limit: 10 } })).toEqual({ total: 0, limit: 10, skip: 0, data: [] });
    await runs.get('r1');
    await runs.create({ name: 'a' });
    await runs.update('r1', { name: 'b' }, { query: { $select: ['name'] } });
    await runs.patch(null, { name: 'c' }, { query: { name: { $in: [] } } });
    await runs.remove('r1');
    expect(calls()).toEqual([
      ['find', 'runs', { name: 'a', $limit: 10 }],
      ['get', 'runs', 'r1', {}],
      ['create', 'runs', { name: 'a' }, {}],
      ['update', 'runs', 'r1', { name: 'b' }, { $select: ['name'] }],
      ['patch', 'runs', null, { name: 'c' }, { name: { $in: [] } }],
      ['remove', 'runs', 'r1', {}],
    ]);
  });

  it('authenticates the connection with the token (strategy jwt) before the first call', async () => {
    server.respond = ({ path }) => (path === 'authentication' ? { accessToken: 'key-1' } : []);
    await socketStore({ token: 'key-1' }).service('runs').find();
    expect(calls()).toEqual([
      ['create', 'authentication', { strategy: 'jwt', accessToken: 'key-1' }, {}],
      ['find', 'runs', {}],
    ]);
  });

  it('turns an error ack into a LarderError with the server name and message', async () => {
    server.respond = () => {
      throw new LarderError('NotFound', 'No record found for id r9');
    };
    const failure = await socketStore()
      .service('runs')
      .get('r9')
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(LarderError);
    expect(failure).toMatchObject({ name: 'NotFound', code: 404, message: 'No record found for id r9' });
  });

  it('times out a call that is never acknowledged', async () => {
    server.respond = () => HANG;
    await expect(socketStore({ timeout: 100 }).service('runs').find()).rejects.toMatchObject({
      name: 'Timeout',
      message: `find runs: no answer from ${server.url} within 100 ms`,
    });
  });

  it('fails fast with Unavailable when the server cannot be reached', async () => {
    const url = server.url;
    await server.close();
    const offline = new DataStore({ url, transport: 'socket' });
    opened.push(offline);
    await expect(offline.service('runs').find()).rejects.toMatchObject({
      name: 'Unavailable',
      message: expect.stringContaining(`Could not connect to ${url}`),
    });
    server = await startSocketServer();
  });

  it('fails calls still waiting when the store is closed', async () => {
    let received!: () => void;
    const arrived = new Promise<void>((resolve) => {
      received = resolve;
    });
    server.respond = () => {
      received();
      return HANG;
    };
    const store = socketStore();
    const pending = store.service('runs').find();
    await arrived;
    await store.close();
    await expect(pending).rejects.toMatchObject({ name: 'Unavailable', message: expect.stringContaining('closed') });
  });

  it('lets a password login replace a rejected token', async () => {
    server.respond = ({ path, args }) => {
      const data = args[0] as { strategy?: string };
      if (path === 'authentication' && data.strategy === 'jwt')
        throw new LarderError('NotAuthenticated', 'jwt expired');
      if (path === 'authentication') return { accessToken: 'fresh', user: { _id: 'u1' } };
      return [];
    };
    const store = socketStore({ token: 'stale' });
    await expect(store.service('runs').find()).rejects.toMatchObject({ name: 'NotAuthenticated' });
    const result = await store.authenticate({ email: 'ada@example.org', password: 'pw' });
    expect(result.accessToken).toBe('fresh');
    await expect(store.service('runs').find()).resolves.toEqual([]);
    expect(calls()).toContainEqual([
      'create',
      'authentication',
      { strategy: 'local', email: 'ada@example.org', password: 'pw' },
      {},
    ]);
  });

  it('delivers "<path> created" events to on() handlers until off()', async () => {
    const store = socketStore();
    server.respond = ({ socket, args }) => {
      socket.emit('runs created', args[0]);
      return args[0];
    };
    const runs = store.service<Run>('runs');
    const received: Run[] = [];
    const handler = (run: Run) => received.push(run);
    runs.on('created', handler);
    await runs.create({ name: 'a' });
    expect(received).toEqual([{ name: 'a' }]);
    runs.off('created', handler);
    await runs.create({ name: 'b' });
    expect(received).toEqual([{ name: 'a' }]);
  });
});

describe('SocketTransport reconnection', () => {
  it('authenticates again after reconnecting, before the next call', async () => {
    server.respond = () => ({});
    const socket = new SocketTransport({
      url: server.url,
      token: () => 'key-1',
      timeout: 5_000,
      socketOptions: { reconnectionDelay: 10, reconnectionDelayMax: 20 },
    });
    opened.push(socket);
    await socket.call({ method: 'find', path: 'runs' });
    server.connections[0]?.conn.close();
    await server.connectionCount(2);
    await socket.call({ method: 'find', path: 'runs' });
    const auth = ['create', 'authentication', { strategy: 'jwt', accessToken: 'key-1' }, {}];
    expect(calls()).toEqual([auth, ['find', 'runs', {}], auth, ['find', 'runs', {}]]);
  });
});
