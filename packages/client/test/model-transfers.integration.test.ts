/**
 * The registry's file transfers against a real server, through a `fetch` that breaks or
 * corrupts bodies: a pull cut short is continued by the next pull (only the missing bytes
 * asked for), corrupted bytes are never kept, a push in chunks composes on the server,
 * and another user's private version stays out of reach, staging folder or not.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Checkpoint, Model, validateModel } from '@larder/pmf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../server/test/support/test-server.js';
import { LarderError, ModelRegistry } from '../src/index.js';

const MiB = 1024 * 1024;
const CHECKPOINT = 'data/checkpoints/epoch-1.bin';

/** A fetch that alters the body of the first `times` answers for `CHECKPOINT`, and records requests. */
function alteringFetch(alter: (body: ReadableStream<Uint8Array>) => ReadableStream<Uint8Array>, times = 1) {
  const requests: { url: string; range: string | null; bytes: number }[] = [];
  let left = times;
  const wrapped: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    const url = String(input);
    if (!url.includes('/model-files/')) return response;
    const entry = { url, range: new Headers(init?.headers).get('range'), bytes: 0 };
    requests.push(entry);
    if (!response.body) return response;
    const counted = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          entry.bytes += chunk.byteLength;
          controller.enqueue(chunk);
        },
      }),
    );
    if (!url.endsWith(CHECKPOINT) || left <= 0) {
      return new Response(counted, { status: response.status, headers: response.headers });
    }
    left -= 1;
    return new Response(alter(counted), { status: response.status, headers: response.headers });
  };
  return { fetch: wrapped, requests };
}

/** Passes `limit` bytes, then fails as a dropped connection does. */
function breakAfter(limit: number) {
  return (body: ReadableStream<Uint8Array>) => {
    let seen = 0;
    return body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          const room = limit - seen;
          seen += chunk.byteLength;
          if (room >= chunk.byteLength) return controller.enqueue(chunk);
          if (room > 0) controller.enqueue(chunk.subarray(0, room));
          controller.error(new TypeError('fetch failed: the connection broke'));
        },
      }),
    );
  };
}

/** Flips one byte in the middle of the body. */
function flipOneByte(at: number) {
  return (body: ReadableStream<Uint8Array>) => {
    let seen = 0;
    return body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          if (at >= seen && at < seen + chunk.byteLength) {
            const copy = new Uint8Array(chunk);
            copy[at - seen] = (copy[at - seen] as number) ^ 0xff;
            controller.enqueue(copy);
          } else controller.enqueue(chunk);
          seen += chunk.byteLength;
        },
      }),
    );
  };
}

describe('SDK model registry transfers', () => {
  let server: TestServer;
  let dir: string;
  let adaToken: string;
  let bobToken: string;
  let credentialsFile: string;
  const weights = randomBytes(6 * MiB);

  const registry = (token: string, fetchFn?: typeof fetch) =>
    ModelRegistry.connect({ url: server.url, token, credentialsFile, ...(fetchFn ? { fetch: fetchFn } : {}) });

  beforeAll(async () => {
    server = await startTestServer({ gcIntervalMs: 0 });
    dir = await mkdtemp(join(tmpdir(), 'larder-sdk-transfers-'));
    credentialsFile = join(dir, 'credentials.json');
    adaToken = (await server.createUser('ada@example.org')).token;
    bobToken = (await server.createUser('bob@example.org')).token;
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function pmfModel(name: string): Promise<string> {
    const source = join(dir, `${name}-source`);
    await mkdir(source, { recursive: true });
    await writeFile(join(source, 'train.yaml'), 'learning_rate: 0.01\n');
    await writeFile(join(source, 'epoch-1.bin'), weights);
    await writeFile(join(source, 'epoch-2.bin'), randomBytes(300_000));
    const model = new Model({
      producerName: 'larder_sdk_tests',
      producerVersionFormat: 'py_pa',
      producerVersion: '1.0.0',
      name,
      id: `${name}-id`,
      configuration: join(source, 'train.yaml'),
      buildParameters: {},
    });
    model.registerTrainingStart(0);
    model.addCheckpoint(await Checkpoint.fromFile(1, join(source, 'epoch-1.bin'), 1));
    model.registerEpoch(1);
    model.addCheckpoint(await Checkpoint.fromFile(2, join(source, 'epoch-2.bin'), 2));
    model.registerEpoch(2);
    model.registerTrainingEnd(true);
    const target = join(dir, name);
    await model.save(target);
    return target;
  }

  it('pushes in chunks joined on the server, and a second push sends nothing', async () => {
    const ada = await registry(adaToken);
    const tree = await pmfModel('chunked');
    const first = await ada.pushVersion(tree, { upload: { chunkBytes: MiB } });
    expect(first.sent.length).toBe(first.version.files.length);
    const again = await ada.pushVersion(tree, { upload: { chunkBytes: MiB } });
    expect(again.sent).toEqual([]);
    const pulled = join(dir, 'chunked-pulled');
    await ada.pullVersion('chunked', 1, pulled);
    expect((await readFile(join(pulled, CHECKPOINT))).equals(weights)).toBe(true);
    expect(await validateModel(pulled, { strict: true })).toEqual([]);
    await ada.close();
  });

  it('continues a pull cut short from where it broke, asking only for the missing bytes', async () => {
    const ada = await registry(adaToken);
    await ada.pushVersion(await pmfModel('resumed'));
    const target = join(dir, 'resumed-pulled');
    const broken = alteringFetch(breakAfter(2 * MiB + 12_345));
    const first = await registry(adaToken, broken.fetch);
    const failed = first.pullVersion('resumed', 'latest', target, { download: { attempts: 1, concurrency: 1 } });
    await expect(failed).rejects.toThrow(/connection broke|fetch failed/);
    await expect(readdir(target)).rejects.toThrow();
    const version = await ada.getVersion('resumed');
    const staged = join(`${target}.pulling-${version._id}`, CHECKPOINT);
    expect((await stat(staged)).size).toBe(2 * MiB + 12_345);

    const watched = alteringFetch((body) => body, 0);
    const second = await registry(adaToken, watched.fetch);
    await second.pullVersion('resumed', 'latest', target);
    const checkpoint = watched.requests.find((request) => request.url.includes('epoch-1.bin'));
    expect(checkpoint?.range).toBe(`bytes=${2 * MiB + 12_345}-`);
    expect(checkpoint?.bytes).toBe(weights.length - (2 * MiB + 12_345));
    expect((await readFile(join(target, CHECKPOINT))).equals(weights)).toBe(true);
    expect(await validateModel(target, { strict: true })).toEqual([]);
    await expect(stat(`${target}.pulling-${version._id}`)).rejects.toThrow();
    await Promise.all([ada.close(), first.close(), second.close()]);
  });

  it('never keeps corrupted bytes: a corrupted file is fetched again, and refused when it stays corrupted', async () => {
    const ada = await registry(adaToken);
    await ada.pushVersion(await pmfModel('corrupted'));

    const once = alteringFetch(flipOneByte(3 * MiB), 1);
    const healed = await registry(adaToken, once.fetch);
    const target = join(dir, 'corrupted-healed');
    await healed.pullVersion('corrupted', 'latest', target, { download: { firstDelayMs: 1 } });
    expect((await readFile(join(target, CHECKPOINT))).equals(weights)).toBe(true);
    // The corrupted transfer was thrown away whole and fetched again from the start.
    const tries = once.requests.filter((request) => request.url.includes('epoch-1.bin'));
    expect(tries.map((request) => request.range)).toEqual([null, null]);

    const always = alteringFetch(flipOneByte(100), 10);
    const hopeless = await registry(adaToken, always.fetch);
    const refused = join(dir, 'corrupted-refused');
    const pull = hopeless.pullVersion('corrupted', 'latest', refused, { download: { attempts: 3, firstDelayMs: 1 } });
    await expect(pull).rejects.toBeInstanceOf(LarderError);
    await expect(pull).rejects.toThrow(/do not match their SHA-256/);
    await expect(readdir(refused)).rejects.toThrow();
    const version = await ada.getVersion('corrupted');
    await expect(stat(join(`${refused}.pulling-${version._id}`, CHECKPOINT))).rejects.toThrow();
    await Promise.all([ada.close(), healed.close(), hopeless.close()]);
  });

  it('continues from staged bytes over its own HTTP client too, and refetches a staged start that is wrong', async () => {
    const ada = await registry(adaToken);
    const pushed = await ada.pushVersion(await pmfModel('staged'));
    const stage = async (target: string, bytes: Buffer) => {
      const staged = join(`${target}.pulling-${pushed.version._id}`, CHECKPOINT);
      await mkdir(join(staged, '..'), { recursive: true });
      await writeFile(staged, bytes);
    };
    const good = join(dir, 'staged-good');
    await stage(good, weights.subarray(0, 4 * MiB));
    await ada.pullVersion('staged', 'latest', good);
    expect((await readFile(join(good, CHECKPOINT))).equals(weights)).toBe(true);

    const wrong = join(dir, 'staged-wrong');
    await stage(wrong, randomBytes(4 * MiB));
    await ada.pullVersion('staged', 'latest', wrong, { download: { firstDelayMs: 1 } });
    expect((await readFile(join(wrong, CHECKPOINT))).equals(weights)).toBe(true);
    expect(await validateModel(wrong, { strict: true })).toEqual([]);
    await ada.close();
  });

  it("keeps another user's private version out of reach, whatever is staged", async () => {
    const ada = await registry(adaToken);
    const pushed = await ada.pushVersion(await pmfModel('private-weights'));
    const bob = await registry(bobToken);
    const target = join(dir, 'bob-pulled');
    // Even with a staging folder named after Ada's version, Bob learns nothing and gets nothing.
    await mkdir(`${target}.pulling-${pushed.version._id}`, { recursive: true });
    await expect(bob.pullVersion('private-weights', 'latest', target)).rejects.toMatchObject({ name: 'NotFound' });
    await expect(bob.pullVersion({ id: pushed.model._id }, pushed.version.version, target)).rejects.toMatchObject({
      name: 'NotFound',
    });
    expect(await readdir(`${target}.pulling-${pushed.version._id}`)).toEqual([]);
    await expect(readdir(target)).rejects.toThrow();

    // Once Ada shares the model, Bob's pull (resumed or not) works like hers.
    await ada.update('private-weights', { private: false });
    await bob.pullVersion({ id: pushed.model._id }, 'latest', target);
    expect((await readFile(join(target, CHECKPOINT))).equals(weights)).toBe(true);
    await Promise.all([ada.close(), bob.close()]);
  });
});
