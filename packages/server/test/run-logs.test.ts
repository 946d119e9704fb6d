/**
 * A run's console output (`/run-logs`) over real HTTP and sockets: chunks kept once each and
 * read back in order with how the process ended, live `chunk` events to the run's readers
 * only, another user's run logs neither readable nor detectable, a reader who may not write,
 * and bad input refused with a 400.
 */
import { authentication, feathers, socketio } from '@feathersjs/client';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError } from './support/expect-error.js';
import { startTestServer, TEST_STORES, type TestServer } from './support/test-server.js';

const PASSWORD = 'correct horse battery';

describe.each(TEST_STORES)('run logs on %s', (store) => {
  let server: TestServer;
  let ada: { id: string; token: string };
  let bob: { id: string; token: string };
  let eve: { id: string; token: string };
  const sockets: Socket[] = [];

  beforeAll(async () => {
    server = await startTestServer({ store, gcIntervalMs: 0 });
    ada = await server.createUser('ada@example.org', PASSWORD);
    bob = await server.createUser('bob@example.org', PASSWORD);
    eve = await server.createUser('eve@example.org', PASSWORD);
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await server?.close();
  });

  const as = (user: { token: string }) => ({
    get: (path: string) => server.request('GET', path, { token: user.token }),
    post: (path: string, body: unknown) => server.request('POST', path, { token: user.token, body }),
  });
  const line = (time: number, text: string, stream = 'stdout') => ({ time, stream, text });

  async function socketClient(email: string) {
    const socket = io(server.url, { transports: ['websocket'], forceNew: true });
    sockets.push(socket);
    const client = feathers();
    client.configure(socketio(socket as never));
    client.configure(authentication());
    await client.authenticate({ strategy: 'local', email, password: PASSWORD });
    return client;
  }

  it('keeps each chunk once and answers them in order, with the exit code and final status', async () => {
    const run = (await as(ada).post('/runs', { name: 'console', folder: 'logs', makeFolder: true })).body;
    const first = await as(ada).post('/run-logs', {
      run: run._id,
      seq: 0,
      records: [line(1000, 'epoch 1 loss 0.5'), line(1001, 'warning: slow', 'stderr')],
    });
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ run: run._id, seq: 0, stored: true });
    // The last chunk arrives first (a retry reordered them), then chunk 0 again.
    const end = { status: 'Failed', exitCode: 3, time: 3000 };
    expect(
      (await as(ada).post('/run-logs', { run: run._id, seq: 1, records: [line(2000, 'boom', 'stderr')], end })).status,
    ).toBe(201);
    const again = await as(ada).post('/run-logs', { run: run._id, seq: 0, records: [line(1000, 'epoch 1 loss 0.5')] });
    expect(again.body.stored).toBe(false);

    const read = await as(ada).get(`/run-logs?run=${run._id}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual({
      run: run._id,
      chunks: [
        { seq: 0, records: [line(1000, 'epoch 1 loss 0.5'), line(1001, 'warning: slow', 'stderr')] },
        { seq: 1, records: [line(2000, 'boom', 'stderr')], end },
      ],
      end,
      next: null,
    });
    const page = await as(ada).get(`/run-logs?run=${run._id}&limit=1`);
    expect(page.body.chunks.map((chunk: { seq: number }) => chunk.seq)).toEqual([0]);
    expect(page.body.next).toBe(0);
    const rest = await as(ada).get(`/run-logs?run=${run._id}&after=0`);
    expect(rest.body.chunks.map((chunk: { seq: number }) => chunk.seq)).toEqual([1]);
    expect(rest.body.next).toBeNull();
  });

  it("answers another user's run logs exactly as those of a run that does not exist", async () => {
    const run = (await as(ada).post('/runs', { name: 'private-console', folder: 'logs' })).body;
    await as(ada).post('/run-logs', { run: run._id, seq: 0, records: [line(1, 'secret token printed')] });
    const madeUp = `${run._id.slice(0, -4)}zzzz`;
    for (const id of [run._id, madeUp]) {
      const read = await as(eve).get(`/run-logs?run=${id}`);
      expectError(read, 404, 'NotFound', new RegExp(`^No run ${id} that you may see$`));
      const write = await as(eve).post('/run-logs', { run: id, seq: 5, records: [line(2, 'injected')] });
      expectError(write, 404, 'NotFound', new RegExp(`^No run ${id} that you may see$`));
    }
    expect(JSON.stringify((await as(ada).get(`/run-logs?run=${run._id}`)).body)).not.toContain('injected');
    expect((await server.request('GET', `/run-logs?run=${run._id}`)).status).toBe(401);
  });

  it('lets a reader of a shared folder read the output but not write it', async () => {
    const run = (await as(ada).post('/runs', { name: 'shared-console', folder: 'shared-logs', makeFolder: true })).body;
    await as(ada).post('/run-logs', { run: run._id, seq: 0, records: [line(1, 'hello team')] });
    const folder = (await as(ada).get('/folders?path=/ada@example.org/shared-logs')).body.data[0];
    const shared = await server.request('PATCH', `/folders/${folder._id}`, {
      token: ada.token,
      body: { shares: [{ principal: `user:${bob.id}`, access: 'read' }] },
    });
    expect(shared.status).toBe(200);
    expect((await as(bob).get(`/run-logs?run=${run._id}`)).body.chunks[0].records[0].text).toBe('hello team');
    expectError(
      await as(bob).post('/run-logs', { run: run._id, seq: 1, records: [line(2, 'bob was here')] }),
      403,
      'Forbidden',
      /read but not write/,
    );
  });

  it("sends each new chunk to the run's readers' sockets and to no one else", async () => {
    const run = (await as(ada).post('/runs', { name: 'live-console', folder: 'logs' })).body;
    const adaClient = await socketClient('ada@example.org');
    const eveClient = await socketClient('eve@example.org');
    const eveSaw: unknown[] = [];
    eveClient.service('run-logs').on('chunk', (event: unknown) => eveSaw.push(event));
    const received = new Promise<any>((resolve) => adaClient.service('run-logs').on('chunk', resolve));
    await as(ada).post('/run-logs', { run: run._id, seq: 0, records: [line(5, 'step 1')] });
    expect(await received).toMatchObject({ run: run._id, seq: 0, records: [line(5, 'step 1')], end: null });
    // An event on Eve's own run proves her socket listens, and heard nothing before.
    const eveRun = (await as(eve).post('/runs', { name: 'eves' })).body;
    const eveOwn = new Promise<any>((resolve) => eveClient.service('run-logs').on('chunk', resolve));
    await as(eve).post('/run-logs', { run: eveRun._id, seq: 0, records: [line(6, 'mine')] });
    expect((await eveOwn).run).toBe(eveRun._id);
    expect(eveSaw).toHaveLength(1);
  });

  it('refuses malformed chunks with a 400 and stores nothing of them', async () => {
    const run = (await as(ada).post('/runs', { name: 'bad-console', folder: 'logs' })).body;
    const bad = [
      [{ seq: 0, records: [] }, /"run"/],
      [{ run: run._id, seq: -1, records: [] }, /"seq"/],
      [{ run: run._id, seq: 1.5, records: [] }, /"seq"/],
      [{ run: run._id, seq: 0, records: 'text' }, /"records"/],
      [{ run: run._id, seq: 0, records: [{ time: 1, stream: 'stdin', text: 'x' }] }, /records\[0\]/],
      [{ run: run._id, seq: 0, records: [{ time: 'now', stream: 'stdout', text: 'x' }] }, /records\[0\]/],
      [{ run: run._id, seq: 0, records: [{ time: 1, stream: 'stdout', text: 'x'.repeat(70_000) }] }, /records\[0\]/],
      [{ run: run._id, seq: 0, records: [], end: { status: 'Done', exitCode: 0, time: 1 } }, /"end"/],
      [{ run: run._id, seq: 0, records: [], end: { status: 'Complete', exitCode: 'zero', time: 1 } }, /"end"/],
      [[1, 2, 3], /Send console output/],
    ] as const;
    for (const [body, message] of bad) expectError(await as(ada).post('/run-logs', body), 400, 'BadRequest', message);
    expect((await as(ada).get(`/run-logs?run=${run._id}`)).body.chunks).toEqual([]);
    expectError(await as(ada).get('/run-logs'), 400, 'BadRequest', /\?run=/);
    expectError(await as(ada).get(`/run-logs?run=${run._id}&limit=0`), 400, 'BadRequest', /limit/);
    expectError(await as(ada).get(`/run-logs?run=${run._id}&after=x`), 400, 'BadRequest', /after/);
  });
});
