/**
 * Redis going away: writes still succeed (records are in PostgreSQL), the server stays up,
 * and the events of writes made meanwhile reach clients once Redis is back. The fault is a
 * real network cut between Larder and a real Redis.
 */
import { authentication, feathers, socketio } from '@feathersjs/client';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js';
import { startTestServer, type TestServer } from './support/test-server.js';

const redis = process.env.LARDER_TEST_REDIS_URL;
const postgres = process.env.LARDER_TEST_POSTGRES_URL;

describe.runIf(redis && postgres)('Redis going away', () => {
  let proxy: TcpProxy;
  let server: TestServer;
  let socket: Socket;

  beforeAll(async () => {
    const target = new URL(redis as string);
    proxy = await startTcpProxy(target.hostname, Number(target.port || 6379));
    server = await startTestServer({ store: 'postgres', redis: `redis://127.0.0.1:${proxy.port}` });
    await server.createUser('listener@example.com', 'correct horse battery');
  });

  afterAll(async () => {
    socket?.close();
    await proxy.restore().catch(() => {});
    await server?.close();
    await proxy.close();
  });

  it('keeps accepting writes, and delivers their events once Redis is back', async () => {
    socket = io(server.url, { transports: ['websocket'], forceNew: true });
    const client = feathers();
    client.configure(socketio(socket as any));
    client.configure(authentication());
    await client.authenticate({ strategy: 'local', email: 'listener@example.com', password: 'correct horse battery' });
    const titles: string[] = [];
    const waiters: { title: string; resolve: () => void }[] = [];
    client.service('notes').on('created', (note: { title: string }) => {
      titles.push(note.title);
      for (const waiter of waiters) if (waiter.title === note.title) waiter.resolve();
    });
    const arrival = (title: string) => new Promise<void>((resolve) => waiters.push({ title, resolve }));

    const before = arrival('before the cut');
    await client.service('notes').create({ title: 'before the cut' });
    await before;

    await proxy.cut();
    const during = arrival('during the cut');
    const created = await client.service('notes').create({ title: 'during the cut' });
    expect(created.title).toBe('during the cut');
    expect((await server.request('GET', '/health')).status).toBe(200);
    expect((await server.request('GET', '/notes?$limit=0', { token: server.adminToken })).body.total).toBe(2);

    await proxy.restore();
    await during;
    expect(titles).toEqual(['before the cut', 'during the cut']);
  });
});
