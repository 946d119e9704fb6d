/**
 * The SDK's file transfers against a real server, through a network that breaks in the
 * middle: uploads resume chunk by chunk, downloads resume by range, and what arrives is
 * byte-identical.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTcpProxy, type TcpProxy } from '../../server/test/support/tcp-proxy.js';
import { startTestServer, type TestServer } from '../../server/test/support/test-server.js';
import { DataStore, LarderError, type UploadProgress } from '../src/index.js';

const MiB = 1024 * 1024;
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('SDK blobs', () => {
  let server: TestServer;
  let proxy: TcpProxy;
  let dir: string;
  let token: string;

  beforeAll(async () => {
    server = await startTestServer({ gcIntervalMs: 0 });
    proxy = await startTcpProxy('127.0.0.1', server.server.port);
    dir = await mkdtemp(join(tmpdir(), 'larder-sdk-blobs-'));
    token = (await server.createUser('ada@example.org')).token;
  });
  afterAll(async () => {
    await proxy.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  const viaProxy = () => new DataStore({ url: `http://127.0.0.1:${proxy.port}`, token });

  it('a chunked upload of a file survives a connection broken mid-way and resends only the broken chunk', async () => {
    const bytes = randomBytes(20 * MiB);
    const path = join(dir, 'weights.bin');
    await writeFile(path, bytes);
    const store = viaProxy();
    const progress: UploadProgress[] = [];
    const broke = proxy.breakAfter(9 * MiB);
    let breaks = 0;
    void broke.then(() => {
      breaks += 1;
    });
    const uploaded = await store.blobs.upload(path, {
      chunkBytes: 4 * MiB,
      firstDelayMs: 10,
      onProgress: (each) => progress.push(each),
    });
    expect(breaks).toBe(1);
    expect(uploaded).toEqual({ sha256: sha256(bytes), size: bytes.length });
    expect(progress.at(-1)).toEqual({ sent: bytes.length, total: bytes.length });
    const copy = await store.blobs.get(uploaded.sha256);
    expect(Buffer.from(copy).equals(bytes)).toBe(true);
    await store.close();
  });

  it('running an interrupted upload again sends only the chunks the server lacks', async () => {
    const bytes = randomBytes(12 * MiB);
    const store = viaProxy();
    // A first attempt that gives up after its connection breaks (no retries).
    void proxy.breakAfter(6 * MiB);
    await expect(store.blobs.upload(bytes, { chunkBytes: 2 * MiB, attempts: 1 })).rejects.toBeInstanceOf(LarderError);

    let sentBytes = 0;
    const counting: typeof fetch = async (input, init) => {
      if (init?.method === 'PUT' && init.body instanceof Uint8Array) sentBytes += init.body.byteLength;
      return fetch(input, init);
    };
    const again = new DataStore({ url: server.url, token, fetch: counting });
    const uploaded = await again.blobs.upload(bytes, { chunkBytes: 2 * MiB });
    expect(uploaded.sha256).toBe(sha256(bytes));
    // At least two of the six chunks had arrived before the break.
    expect(sentBytes).toBeLessThanOrEqual(8 * MiB);
    expect(sentBytes).toBeGreaterThan(0);

    // Uploading the same bytes once more sends nothing at all.
    sentBytes = 0;
    await again.blobs.upload(bytes, { chunkBytes: 2 * MiB });
    expect(sentBytes).toBe(0);
    await Promise.all([store.close(), again.close()]);
  });

  it('a download resumes by range after a broken connection and appears only when verified', async () => {
    const bytes = randomBytes(16 * MiB);
    const store = viaProxy();
    const { sha256: hash } = await store.blobs.upload(bytes);
    // Break while the response streams: the client's bytes are tiny, so break on the next request's.
    let requests = 0;
    const breaking: typeof fetch = async (input, init) => {
      requests += 1;
      const response = await fetch(input, init);
      if (requests !== 1 || !response.body) return response;
      // Deliver the first 5 MiB of the first answer, then fail like a dropped connection.
      const reader = response.body.getReader();
      let delivered = 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (delivered >= 5 * MiB) {
            await reader.cancel();
            controller.error(new TypeError('terminated'));
            return;
          }
          const { value, done } = await reader.read();
          if (done) return controller.close();
          delivered += value.byteLength;
          controller.enqueue(value);
        },
      });
      return new Response(body, { status: response.status, headers: response.headers });
    };
    const flaky = new DataStore({ url: server.url, token, fetch: breaking });
    const target = join(dir, 'download.bin');
    const result = await flaky.blobs.download(hash, target, { firstDelayMs: 10 });
    expect(result).toEqual({ sha256: hash, size: bytes.length });
    expect(requests).toBe(2);
    expect((await readFile(target)).equals(bytes)).toBe(true);
    expect((await readdir(dir)).filter((name) => name.endsWith('.partial'))).toEqual([]);
    await Promise.all([store.close(), flaky.close()]);
  });

  it("a download over the SDK's own client resumes by range after a broken connection", async () => {
    const bytes = randomBytes(24 * MiB);
    const store = viaProxy();
    const { sha256: hash } = await store.blobs.upload(bytes);
    let breaks = 0;
    void proxy.breakDownstreamAfter(7 * MiB).then(() => {
      breaks += 1;
    });
    const target = join(dir, 'own-client-download.bin');
    const result = await store.blobs.download(hash, target, { firstDelayMs: 10 });
    expect(breaks).toBe(1);
    expect(result).toEqual({ sha256: hash, size: bytes.length });
    expect((await readFile(target)).equals(bytes)).toBe(true);
    expect((await readdir(dir)).filter((name) => name.endsWith('.partial'))).toEqual([]);
    await store.close();
  });

  it('a missing or unreadable blob is a clear NotFound, and no file is left behind', async () => {
    const store = new DataStore({ url: server.url, token });
    const missing = 'a'.repeat(64);
    expect(await store.blobs.has(missing)).toBe(false);
    const target = join(dir, 'missing.bin');
    await expect(store.blobs.download(missing, target)).rejects.toMatchObject({ name: 'NotFound', code: 404 });
    expect((await readdir(dir)).some((name) => name.startsWith('missing.bin'))).toBe(false);
    await store.close();
  });

  it('a file whose bytes do not match the hashes it is sent with is refused with a 400, and nothing is stored', async () => {
    const bytes = randomBytes(3 * MiB);
    const path = join(dir, 'mislabelled.bin');
    await writeFile(path, bytes);
    const store = new DataStore({ url: server.url, token });
    const other = randomBytes(3 * MiB);
    const wrong = {
      size: bytes.length,
      sha256: sha256(other),
      chunks: [{ start: 0, end: bytes.length, sha256: sha256(other) }],
    };
    await expect(store.blobs.uploadHashed(path, wrong)).rejects.toMatchObject({ name: 'BadRequest', code: 400 });
    expect(await store.blobs.has(sha256(other))).toBe(false);
    expect(await store.blobs.has(sha256(bytes))).toBe(false);
    await store.close();
  });
});
