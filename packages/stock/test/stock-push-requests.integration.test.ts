/**
 * What a push of many small samples asks of a real server: a pack goes up in one request
 * (`PUT /stock-packs/<repo>/<pack>`), a fresh repository is not asked what it lacks, and an
 * older server without that route still gets the push through the blob routes. Requests
 * are seen through a small proxy in front of the server, which can also play the older server.
 */
import { createServer, request as forward, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../server/test/support/test-server.js';
import { HttpStockRemote, pullStock, pushStock, type StockRoom, tensor } from '../src/index.js';
import { newStock } from '../src/test-support/new-stock.js';

interface Proxy {
  url: string;
  /** `METHOD /path` of every request, in order. */
  seen: string[];
  close(): Promise<void>;
}

/** Forwards every request to `target`; with `older`, answers 405 to the one-request pack upload. */
async function proxyTo(target: string, older: boolean): Promise<Proxy> {
  const seen: string[] = [];
  const upstream = new URL(target);
  const server: Server = createServer((incoming, outgoing) => {
    const path = incoming.url ?? '/';
    seen.push(`${incoming.method} ${path.replace(/\?.*$/, '')}`);
    if (older && incoming.method === 'PUT' && /^\/stock-packs\/[^/]+\/[^/]+$/.test(path)) {
      incoming.resume();
      outgoing.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'application/json' });
      outgoing.end(JSON.stringify({ name: 'MethodNotAllowed', code: 405, message: 'PUT is not supported' }));
      return;
    }
    const onward = forward(
      { host: upstream.hostname, port: upstream.port, path, method: incoming.method, headers: incoming.headers },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    onward.on('error', () => outgoing.destroy());
    incoming.pipe(onward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const sample = (i: number) => {
  const bytes = new Uint8Array(784);
  new DataView(bytes.buffer).setUint32(0, i, true);
  bytes[783] = i & 0xff;
  return tensor(bytes, [28, 28], 'uint8');
};

async function roomWithSamples(count: number, first = 0): Promise<StockRoom> {
  const room = await newStock();
  await room.optimize(async () => {
    for (let i = first; i < first + count; i++) await room.data.set('images', `s${i}`, sample(i));
  });
  await room.commit(`${count} samples`);
  return room;
}

async function expectSamples(room: StockRoom, indexes: number[]): Promise<void> {
  for (const i of indexes) {
    const got = await room.data.get('images', `s${i}`);
    expect(Buffer.from(got.data as Uint8Array)).toEqual(Buffer.from(sample(i).data as Uint8Array));
  }
}

describe('pushing small samples to a real server', () => {
  let server: TestServer;
  let token: string;

  beforeAll(async () => {
    server = await startTestServer({ gcIntervalMs: 0 });
    token = (await server.createUser('ada@example.org')).token;
  });
  afterAll(() => server.close());

  it('sends each pack in one request and does not ask a repository it just created what it lacks', async () => {
    const proxy = await proxyTo(server.url, false);
    const remote = new HttpStockRemote({ url: proxy.url, token });
    try {
      const room = await roomWithSamples(40);
      const pushed = await pushStock(room, remote, { repo: 'one-request-packs' });
      expect(pushed).toMatchObject({ created: true, commits: 1, objects: 41 });
      const pushing = proxy.seen.filter((line) => !line.startsWith('GET /info'));
      expect(pushing.filter((line) => line.startsWith('PUT /stock-packs/'))).toHaveLength(2);
      expect(pushing.some((line) => line.includes('/blobs') || line.endsWith('/missing'))).toBe(false);
      expect(pushing.at(-1)).toMatch(/^PUT \/stock-refs\/[^/]+\/main$/);

      // A second push to the repository asks what it lacks, once, and sends only the new samples.
      await room.optimize(async () => {
        for (let i = 40; i < 70; i++) await room.data.set('images', `s${i}`, sample(i));
      });
      await room.commit('30 more');
      proxy.seen.length = 0;
      expect(await pushStock(room, remote)).toMatchObject({ created: false, commits: 1, objects: 31 });
      expect(proxy.seen.filter((line) => line.endsWith('/missing'))).toHaveLength(1);

      const copy = await newStock();
      expect(await pullStock(copy, remote, { repo: 'one-request-packs' })).toMatchObject({ status: 'fast-forward' });
      await expectSamples(copy, [0, 17, 39, 40, 69]);
      expect((await copy.objects.check()).problems).toEqual([]);
    } finally {
      await remote.close();
      await proxy.close();
    }
  });

  it('still pushes to an older server that has no one-request pack upload', async () => {
    const proxy = await proxyTo(server.url, true);
    const remote = new HttpStockRemote({ url: proxy.url, token });
    try {
      const room = await roomWithSamples(25, 1000);
      expect(await pushStock(room, remote, { repo: 'older-server' })).toMatchObject({ commits: 1, objects: 26 });
      expect(proxy.seen.filter((line) => /^PUT \/blobs\//.test(line))).toHaveLength(2);
      expect(proxy.seen.filter((line) => /^POST \/stock-packs\/[^/]+$/.test(line))).toHaveLength(2);

      // Once told, the remote goes straight to the blob routes.
      await room.data.set('images', 'extra', sample(5000));
      await room.commit('one more');
      proxy.seen.length = 0;
      await pushStock(room, remote);
      expect(proxy.seen.some((line) => /^PUT \/stock-packs\//.test(line))).toBe(false);

      const copy = await newStock();
      await pullStock(copy, remote, { repo: 'older-server' });
      await expectSamples(copy, [1000, 1012, 1024]);
    } finally {
      await remote.close();
      await proxy.close();
    }
  });
});
