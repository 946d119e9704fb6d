import { LarderError } from '@larder/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataStore } from './data-store.js';
import { useIsolatedEnvironment } from './test-support/isolated-environment.js';
import { type RecordingServer, startRecordingServer } from './test-support/recording-server.js';

interface Run {
  _id: string;
  name: string;
  status?: string;
}

useIsolatedEnvironment();

let server: RecordingServer;
let store: DataStore;

beforeEach(async () => {
  server = await startRecordingServer();
  store = new DataStore({ url: server.url, token: 'secret-token' });
});

afterEach(async () => {
  await store.close();
  await server.close();
});

function lastRequest() {
  const request = server.requests.at(-1);
  if (!request) throw new Error('the server received no request');
  return request;
}

describe('REST wire format', () => {
  it('finds with a bracket query string and a bearer token', async () => {
    const page = { total: 1, limit: 1, skip: 0, data: [{ _id: 'r1', name: 'mnist' }] };
    server.respond = () => ({ body: page });
    const answer = await store.service<Run>('runs').find({
      query: { basename: 'mnist', $sort: { createdAt: -1 }, $select: ['name'], $limit: 1 },
    });
    expect(answer).toEqual(page);
    const request = lastRequest();
    expect(request.method).toBe('GET');
    expect(request.path).toBe('/runs');
    expect(request.search).toBe('basename=mnist&$sort[createdAt]=-1&$select[0]=name&$limit=1');
    expect(request.query).toEqual({ basename: 'mnist', $sort: { createdAt: '-1' }, $select: ['name'], $limit: '1' });
    expect(request.headers.authorization).toBe('Bearer secret-token');
    expect(request.headers.accept).toBe('application/json');
    expect(request.body).toBeUndefined();
  });

  it('gets by a URL-encoded id', async () => {
    server.respond = () => ({ body: { _id: 'a/b c', name: 'x' } });
    const run = await store.service<Run>('runs').get('a/b c', { query: { $select: ['name'] } });
    expect(run.name).toBe('x');
    expect(lastRequest()).toMatchObject({ method: 'GET', path: '/runs/a%2Fb%20c', search: '$select[0]=name' });
  });

  it('creates one record or many with a JSON body', async () => {
    const runs = store.service<Run>('runs');
    server.respond = (request) => ({ status: 201, body: { _id: 'r1', ...(request.body as object) } });
    expect(await runs.create({ name: 'one' })).toEqual({ _id: 'r1', name: 'one' });
    expect(lastRequest()).toMatchObject({ method: 'POST', path: '/runs', search: '', body: { name: 'one' } });
    expect(lastRequest().headers['content-type']).toBe('application/json');

    server.respond = (request) => ({ status: 201, body: request.body });
    expect(await runs.create([{ name: 'a' }, { name: 'b' }])).toEqual([{ name: 'a' }, { name: 'b' }]);
    expect(lastRequest()).toMatchObject({ method: 'POST', body: [{ name: 'a' }, { name: 'b' }] });
  });

  it('updates, patches and removes by id', async () => {
    const runs = store.service<Run>('runs');
    server.respond = () => ({ body: { _id: 'r1', name: 'n' } });
    await runs.update('r1', { name: 'n' });
    expect(lastRequest()).toMatchObject({ method: 'PUT', path: '/runs/r1', body: { name: 'n' } });
    await runs.patch('r1', { status: 'success' });
    expect(lastRequest()).toMatchObject({ method: 'PATCH', path: '/runs/r1', body: { status: 'success' } });
    await runs.remove('r1');
    expect(lastRequest()).toMatchObject({ method: 'DELETE', path: '/runs/r1', search: '', body: undefined });
  });

  it('patches and removes every match of a query when the id is null', async () => {
    const runs = store.service<Run>('runs');
    server.respond = () => ({ body: [{ _id: 'r1', name: 'n' }] });
    const patched = await runs.patch(null, { status: 'stale' }, { query: { status: { $in: ['idle', 'start'] } } });
    expect(patched).toHaveLength(1);
    expect(lastRequest()).toMatchObject({
      method: 'PATCH',
      path: '/runs',
      query: { status: { $in: ['idle', 'start'] } },
      body: { status: 'stale' },
    });
    await runs.remove(null, { query: { createdAt: { $lt: '2024-01-01' } } });
    expect(lastRequest()).toMatchObject({ method: 'DELETE', path: '/runs', search: 'createdAt[$lt]=2024-01-01' });
  });

  it('keeps a path prefix of the server URL and sends no Authorization without a token', async () => {
    const anonymous = new DataStore({ url: `${server.url}/api/` });
    await anonymous.service('tfjs-models').find();
    expect(lastRequest()).toMatchObject({ method: 'GET', path: '/api/tfjs-models' });
    expect(lastRequest().headers.authorization).toBeUndefined();
    await anonymous.close();
  });

  it('takes the URL and token from the environment when options name none', async () => {
    process.env.LARDER_URL = server.url;
    process.env.LARDER_TOKEN = 'env-token';
    const fromEnvironment = new DataStore();
    await fromEnvironment.service('runs').find();
    expect(lastRequest().headers.authorization).toBe('Bearer env-token');
    await fromEnvironment.close();
  });

  it('logs in with POST /authentication and sends the new token afterwards', async () => {
    const anonymous = new DataStore({ url: server.url });
    server.respond = () => ({
      status: 201,
      body: { accessToken: 'jwt-1', user: { _id: 'u1', email: 'ada@example.org' } },
    });
    const result = await anonymous.authenticate({ email: 'ada@example.org', password: 'pw' });
    expect(result.user).toEqual({ _id: 'u1', email: 'ada@example.org' });
    expect(lastRequest()).toMatchObject({
      method: 'POST',
      path: '/authentication',
      body: { strategy: 'local', email: 'ada@example.org', password: 'pw' },
    });
    server.respond = () => ({ body: { total: 0, limit: 10, skip: 0, data: [] } });
    await anonymous.service('runs').find();
    expect(lastRequest().headers.authorization).toBe('Bearer jwt-1');
    await anonymous.close();
  });

  it('pages items() with $limit and $skip until the last, short page', async () => {
    const all = Array.from({ length: 25 }, (_, i) => ({ _id: `r${i}`, name: `run-${i}` }));
    server.respond = ({ query }) => {
      const skip = Number(query.$skip);
      const limit = Number(query.$limit);
      return { body: { total: all.length, limit, skip, data: all.slice(skip, skip + limit) } };
    };
    const seen: Run[] = [];
    for await (const run of store.service<Run>('runs').items({ status: 'done' }, { pageSize: 10 })) seen.push(run);
    expect(seen).toEqual(all);
    expect(server.requests.map((request) => request.search)).toEqual([
      'status=done&$limit=10&$skip=0',
      'status=done&$limit=10&$skip=10',
      'status=done&$limit=10&$skip=20',
    ]);
  });
});

describe('REST errors', () => {
  it('turns a Feathers 404 into a NotFound LarderError with the server message', async () => {
    server.respond = () => ({
      status: 404,
      body: {
        name: 'NotFound',
        message: 'No record found for id r9',
        code: 404,
        className: 'not-found',
        data: { id: 'r9' },
      },
    });
    const failure = await store
      .service('runs')
      .get('r9')
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(LarderError);
    expect(failure).toMatchObject({
      name: 'NotFound',
      code: 404,
      message: 'No record found for id r9',
      data: { id: 'r9' },
    });
  });

  it('keeps the name of other Feathers errors', async () => {
    server.respond = () => ({
      status: 401,
      body: { name: 'NotAuthenticated', message: 'Invalid login', code: 401, className: 'not-authenticated' },
    });
    await expect(store.authenticate({ email: 'a@b.c', password: 'wrong' })).rejects.toMatchObject({
      name: 'NotAuthenticated',
      message: 'Invalid login',
    });
  });

  it('names a non-JSON error answer from its status', async () => {
    server.respond = () => ({ status: 502, text: '<html>Bad gateway</html>' });
    await expect(store.service('runs').find()).rejects.toMatchObject({
      name: 'BadGateway',
      message: expect.stringContaining('502: <html>Bad gateway</html>'),
    });
  });

  it('reports an unreachable server as Unavailable, naming the URL and the cause', async () => {
    const url = server.url;
    await server.close();
    const offline = new DataStore({ url });
    const failure = await offline
      .service('runs')
      .find()
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(LarderError);
    expect(failure).toMatchObject({ name: 'Unavailable', message: expect.stringContaining(`${url}/runs`) });
    expect((failure as Error).message).toContain('ECONNREFUSED');
    await offline.close();
    server = await startRecordingServer();
  });

  it('times out a call the server never answers', async () => {
    server.respond = () => ({ hang: true });
    const impatient = new DataStore({ url: server.url, timeout: 100 });
    await expect(impatient.service('runs').find()).rejects.toMatchObject({
      name: 'Timeout',
      message: expect.stringContaining('within 100 ms'),
    });
    await impatient.close();
  });

  it('refuses calls after close()', async () => {
    await store.close();
    await expect(store.service('runs').find()).rejects.toMatchObject({ name: 'Unavailable' });
  });

  it('refuses an invalid service name before sending anything', () => {
    expect(() => store.service('../etc')).toThrow(/Invalid service name/);
  });
});
