import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataStore } from './data-store.js';
import { useIsolatedEnvironment } from './test-support/isolated-environment.js';
import { type RecordingServer, startRecordingServer } from './test-support/recording-server.js';
import { type RecordingSocketServer, startSocketServer } from './test-support/recording-socket-server.js';

interface Run {
  _id: string;
  name: string;
}

useIsolatedEnvironment();

let http: RecordingServer;
let sockets: RecordingSocketServer;
let store: DataStore;
/** What happened on the server, in order, across both transports. */
let timeline: string[];

beforeEach(async () => {
  timeline = [];
  http = await startRecordingServer();
  sockets = await startSocketServer(({ method, path, args }) => {
    timeline.push(`socket ${method} ${path} ${JSON.stringify(args[0])}`);
    return { accessToken: 'x' };
  }, http.server);
  http.respond = (request) => {
    timeline.push(`http ${request.method} ${request.path} ${request.headers.authorization ?? ''}`);
    if (request.path === '/authentication') return { status: 201, body: { accessToken: 'jwt-2', user: { _id: 'u' } } };
    const created = { _id: 'r1', ...(request.body as object) };
    sockets.io.emit('runs created', created);
    return { status: 201, body: created };
  };
  store = new DataStore({ url: http.url, token: 'key-1' });
});

afterEach(async () => {
  await store.close();
  await sockets.close();
  await http.close();
});

describe('events with the REST transport', () => {
  it('opens an authenticated socket on on() before the next REST call, so its event arrives', async () => {
    const runs = store.service<Run>('runs');
    const received = new Promise<Run>((resolve) => runs.on('created', resolve));
    await runs.create({ name: 'a' });
    expect(await received).toEqual({ _id: 'r1', name: 'a' });
    expect(timeline).toEqual([
      'socket create authentication {"strategy":"jwt","accessToken":"key-1"}',
      'http POST /runs Bearer key-1',
    ]);
  });

  it('re-authenticates the event socket after a password login', async () => {
    const runs = store.service<Run>('runs');
    runs.on('created', () => undefined);
    await store.authenticate({ email: 'ada@example.org', password: 'pw' });
    expect(timeline).toEqual([
      'socket create authentication {"strategy":"jwt","accessToken":"key-1"}',
      'http POST /authentication Bearer key-1',
      'socket create authentication {"strategy":"jwt","accessToken":"jwt-2"}',
    ]);
  });
});
