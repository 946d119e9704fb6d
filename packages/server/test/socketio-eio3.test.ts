/**
 * Marcelle's browser client speaks socket.io 2 (Engine.IO v3) with the raw Feathers socket
 * RPC: it waits for `init`, emits `method, path, ...args, ack`, and listens to
 * `"<path> <event>"`. This drives the server with socket.io-client 2.x exactly that way.
 */
// @ts-expect-error socket.io-client 2 ships no types of its own
import ioV2 from 'socket.io-client-v2';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './support/test-server.js';

interface LegacySocket {
  on(event: string, handler: (...args: any[]) => void): void;
  once(event: string, handler: (...args: any[]) => void): void;
  emit(event: string, ...args: any[]): void;
  close(): void;
}

function connect(url: string): { socket: LegacySocket; init: Promise<{ auth: boolean; services: string[] }> } {
  const socket: LegacySocket = ioV2(url, { transports: ['websocket'], forceNew: true, reconnection: false });
  const init = new Promise<{ auth: boolean; services: string[] }>((resolve) => socket.once('init', resolve));
  return { socket, init };
}

function call(socket: LegacySocket, method: string, ...args: unknown[]): Promise<any> {
  return new Promise((resolve, reject) => {
    socket.emit(method, ...args, (error: unknown, result: unknown) => (error ? reject(error) : resolve(result)));
  });
}

describe('Engine.IO v3 clients (socket.io-client 2.x)', () => {
  let server: TestServer | undefined;
  const sockets: LegacySocket[] = [];

  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.close();
    await server?.close();
    server = undefined;
  });

  it('get init, run every method and receive every event without auth', async () => {
    server = await startTestServer({ auth: false });
    await server.request('POST', '/existing', { body: { a: 1 } });
    const { socket, init } = connect(server.url);
    sockets.push(socket);
    expect(await init).toEqual({ auth: false, services: ['existing'] });

    const events: string[] = [];
    for (const event of ['created', 'updated', 'patched', 'removed']) {
      socket.on(`runs ${event}`, (record: { name: string }) => events.push(`${event}:${record.name}`));
    }
    const created = await call(socket, 'create', 'runs', { name: 'r1', epoch: 0 }, {});
    expect(created).toMatchObject({ name: 'r1', epoch: 0 });
    const found = await call(socket, 'find', 'runs', { name: 'r1' });
    expect(found.total).toBe(1);
    expect((await call(socket, 'get', 'runs', created._id, {})).name).toBe('r1');
    await call(socket, 'update', 'runs', created._id, { name: 'r1', epoch: 1 }, {});
    await call(socket, 'patch', 'runs', created._id, { epoch: 2 }, {});
    await call(socket, 'remove', 'runs', created._id, {});
    // Events follow their calls in order on one connection; one more round trip flushes them.
    await call(socket, 'find', 'runs', {});
    expect(events).toEqual(['created:r1', 'updated:r1', 'patched:r1', 'removed:r1']);
  });

  it('answer errors in the Feathers format', async () => {
    server = await startTestServer({ auth: false });
    const { socket, init } = connect(server.url);
    sockets.push(socket);
    await init;
    await expect(call(socket, 'get', 'runs', 'missing', {})).rejects.toMatchObject({ name: 'NotFound', code: 404 });
    await expect(call(socket, 'find', 'runs', { a: { $where: 'x' } })).rejects.toMatchObject({
      name: 'BadRequest',
      message: expect.stringContaining('$where'),
    });
  });

  it('authenticate with the local strategy, then with the JWT', async () => {
    server = await startTestServer();
    await server.createUser('marcelle@example.com', 'correct horse battery');
    const { socket, init } = connect(server.url);
    sockets.push(socket);
    expect((await init).auth).toBe(true);
    await expect(call(socket, 'find', 'runs', {})).rejects.toMatchObject({ name: 'NotAuthenticated' });
    const login = await call(
      socket,
      'create',
      'authentication',
      {
        strategy: 'local',
        email: 'marcelle@example.com',
        password: 'correct horse battery',
      },
      {},
    );
    expect(login.user.email).toBe('marcelle@example.com');
    expect(login.user.password).toBeUndefined();
    const created = await call(socket, 'create', 'runs', { name: 'mine' }, {});
    expect(created.userId).toBe(login.user._id);

    const second = connect(server.url);
    sockets.push(second.socket);
    await second.init;
    await call(second.socket, 'create', 'authentication', { strategy: 'jwt', accessToken: login.accessToken }, {});
    expect((await call(second.socket, 'find', 'runs', {})).total).toBe(1);
  });
});
