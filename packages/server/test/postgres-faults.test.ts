/**
 * When PostgreSQL goes away, clients get a prompt 503 (not a hang, not a crash), and the
 * server recovers by itself when the database is back. The fault is a real network cut
 * between Larder and a real PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError } from './support/expect-error.js';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js';
import { startTestServer, type TestServer } from './support/test-server.js';

const base = process.env.LARDER_TEST_POSTGRES_URL;

describe.runIf(base)('PostgreSQL going away', () => {
  let proxy: TcpProxy;
  let server: TestServer;

  beforeAll(async () => {
    const target = new URL(base as string);
    proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    server = await startTestServer({ store: 'postgres', postgresPort: proxy.port });
  });

  afterAll(async () => {
    await proxy.restore().catch(() => {});
    await server?.close();
    await proxy.close();
  });

  it('answers 503 while the database is unreachable, and recovers when it is back', async () => {
    const token = server.adminToken;
    const created = await server.request('POST', '/things', { token, body: { n: 1 } });
    expect(created.status).toBe(201);

    await proxy.cut();
    const started = Date.now();
    const during = await server.request('GET', '/things', { token });
    expectError(during, 503, 'Unavailable', /unreachable/);
    const write = await server.request('POST', '/things', { token, body: { n: 2 } });
    expect(write.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(15_000);
    // The process is still serving what needs no database.
    expect((await server.request('GET', '/health')).status).toBe(200);

    await proxy.restore();
    const after = await server.request('GET', '/things', { token });
    expect(after.status).toBe(200);
    expect(after.body.total).toBe(1);
  });
});
