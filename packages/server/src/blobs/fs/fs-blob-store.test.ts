import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LarderError } from '@larder/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeBlobStoreConformance } from '../blob-store.conformance.js';
import { describeBlobBatchConformance } from '../blob-store-batch.conformance.js';
import { bytesSource, collect, patternBytes, readAll, sha256Of, stalledSource } from '../test-support/byte-sources.js';
import { FsBlobStore, type FsBlobStoreOptions } from './fs-blob-store.js';
import { SMALL_BODY_BYTES } from './fs-blob-writes.js';

const newRoot = () => mkdtemp(join(tmpdir(), 'larder-blobs-'));

async function makeStore(options: Partial<FsBlobStoreOptions> = {}) {
  const root = await newRoot();
  return { store: new FsBlobStore({ root, ...options }), cleanup: () => rm(root, { recursive: true, force: true }) };
}

describeBlobStoreConformance('FsBlobStore', () => makeStore());
describeBlobBatchConformance('FsBlobStore', () => makeStore());
// Every blob of a batch a file of its own, as before packs (and as past the pack size).
describeBlobBatchConformance('FsBlobStore without packs', () => makeStore({ packBlobsUpTo: 0 }));
// Packs capped at a few KiB a batch: the rest of each batch staged as files beside its pack.
describeBlobBatchConformance('FsBlobStore with a small pack cap', () => makeStore({ packBytesPerBatch: 4096 }));

/** Every file under `directory`, as paths relative to it. */
async function filesUnder(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(directory.length + 1))
    .sort();
}

describe('FsBlobStore on disk', () => {
  let root: string;
  let store: FsBlobStore;

  beforeEach(async () => {
    root = await newRoot();
    // The layout of files: batches here stage every blob as a file (packs: fs-blob-packs.test.ts).
    store = new FsBlobStore({ root, packBlobsUpTo: 0 });
  });

  afterEach(async () => {
    await store.close();
    await rm(root, { recursive: true, force: true });
  });

  it('keeps a blob at sha256/ab/<hash>, and records the one level for the next opens', async () => {
    await store.open();
    const bytes = patternBytes(1234);
    const hash = sha256Of(bytes);
    await store.put(bytesSource(bytes));
    expect(await filesUnder(root)).toEqual([join('sha256', hash.slice(0, 2), hash), join('sha256', 'levels')]);
    expect((await readFile(join(root, 'sha256', hash.slice(0, 2), hash))).equals(bytes)).toBe(true);
    expect(await readFile(join(root, 'sha256', 'levels'), 'utf8')).toBe('1\n');
  });

  it('goes on with sha256/ab/cd/<hash> in a store made before the levels file, for every operation', async () => {
    const old = patternBytes(700, 1);
    const oldHash = sha256Of(old);
    await mkdir(join(root, 'sha256', oldHash.slice(0, 2), oldHash.slice(2, 4)), { recursive: true });
    await writeFile(join(root, 'sha256', oldHash.slice(0, 2), oldHash.slice(2, 4), oldHash), old);
    await store.open();
    expect(await readFile(join(root, 'sha256', 'levels'), 'utf8')).toBe('2\n');
    expect((await readAll(await store.get(oldHash))).equals(old)).toBe(true);
    const added = patternBytes(800, 2);
    const addedHash = sha256Of(added);
    await store.put(bytesSource(added));
    const batch = store.batch();
    const third = patternBytes(900, 3);
    await batch.add(bytesSource(third));
    await batch.commit();
    const twoLevels = (hash: string) => join('sha256', hash.slice(0, 2), hash.slice(2, 4), hash);
    expect(await filesUnder(root)).toEqual(
      [twoLevels(oldHash), twoLevels(addedHash), twoLevels(sha256Of(third)), join('sha256', 'levels')].sort(),
    );
    expect(await collect(store.list())).toEqual([oldHash, addedHash, sha256Of(third)].sort());
    // Reopened, the levels file decides, whatever the shards say.
    await store.close();
    const reopened = new FsBlobStore({ root, packBlobsUpTo: 0 });
    await reopened.open();
    expect(await reopened.stat(addedHash)).toEqual({ sha256: addedHash, size: 800 });
    expect(await reopened.delete(oldHash)).toBe(true);
    expect(await collect(reopened.list())).toEqual([addedHash, sha256Of(third)].sort());
    await reopened.close();
  });

  it('refuses to open a store whose levels file it does not know, touching nothing', async () => {
    await mkdir(join(root, 'sha256'), { recursive: true });
    await writeFile(join(root, 'sha256', 'levels'), '3\n');
    await expect(store.open()).rejects.toMatchObject({
      name: 'GeneralError',
      message: expect.stringContaining('1 or 2'),
    });
    expect(await readFile(join(root, 'sha256', 'levels'), 'utf8')).toBe('3\n');
  });

  it('removes the temp files of a crashed upload on open(), keeping stored blobs', async () => {
    await store.open();
    const { sha256 } = await store.put(bytesSource(patternBytes(100)));
    await store.close();
    await writeFile(join(root, 'tmp', 'crashed-upload.part'), patternBytes(5000));
    await mkdir(join(root, 'tmp', 'left-over-directory'));

    const reopened = new FsBlobStore({ root });
    await reopened.open();
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
    expect(await collect(reopened.list())).toEqual([sha256]);
    await reopened.close();
  });

  it('leaves no blob and no temp file after a killed upload', async () => {
    await store.open();
    // Past the small-body size: a smaller body is held in memory until its end (next test).
    const upload = stalledSource(patternBytes(SMALL_BODY_BYTES + 200_000), patternBytes(10));
    const putting = store.put(upload.stream);
    await upload.stalled;
    expect(await readdir(join(root, 'tmp'))).toHaveLength(1);

    upload.stream.destroy();
    await expect(putting).rejects.toMatchObject({ name: 'BadRequest', message: expect.stringContaining('stopped') });
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
    expect(await filesUnder(join(root, 'sha256'))).toEqual(['levels']);
  });

  it('leaves nothing after a killed small upload, which never reached the disk', async () => {
    await store.open();
    const upload = stalledSource(patternBytes(200_000), patternBytes(10));
    const putting = store.put(upload.stream);
    await upload.stalled;
    upload.stream.destroy();
    await expect(putting).rejects.toMatchObject({ name: 'BadRequest', message: expect.stringContaining('stopped') });
    expect(await filesUnder(root)).toEqual([join('sha256', 'levels')]);
  });

  it('leaves no temp file after a refused upload', async () => {
    await store.open();
    await expect(store.put(bytesSource(patternBytes(5000)), { maxBytes: 10 })).rejects.toBeInstanceOf(LarderError);
    const wrong = sha256Of(Buffer.from('x'));
    await expect(store.put(bytesSource(patternBytes(5000)), { expectedSha256: wrong })).rejects.toBeInstanceOf(
      LarderError,
    );
    expect(await filesUnder(root)).toEqual([join('sha256', 'levels')]);
  });

  it('never touches a file outside the root, whatever the hash', async () => {
    await store.open();
    const outside = join(root, '..', `${root.split('/').pop()}-victim`);
    await writeFile(outside, 'precious');
    try {
      const hostile = `../../../${outside.split('/').pop()}`;
      await expect(store.delete(hostile)).rejects.toMatchObject({ name: 'BadRequest' });
      await expect(store.get(hostile)).rejects.toMatchObject({ name: 'BadRequest' });
      expect(await readFile(outside, 'utf8')).toBe('precious');
    } finally {
      await rm(outside, { force: true });
    }
  });

  it('lists only well-formed blobs, ignoring stray files in the shard directories', async () => {
    await store.open();
    const { sha256 } = await store.put(bytesSource(patternBytes(100)));
    const shard = join(root, 'sha256', sha256.slice(0, 2));
    await writeFile(join(shard, '.DS_Store'), 'junk');
    await writeFile(join(shard, 'f'.repeat(64)), 'a blob in the wrong shard');
    await mkdir(join(root, 'sha256', 'not-a-shard'));
    expect(await collect(store.list())).toEqual([sha256]);
  });

  it('asks to be opened before accepting uploads', async () => {
    await expect(store.put(bytesSource(patternBytes(10)))).rejects.toThrow('open()');
    expect(() => store.batch()).toThrow('open()');
  });

  it('leaves no temp file after a batch is committed, aborted, or loses a blob to a refusal', async () => {
    await store.open();
    const committed = store.batch();
    await committed.add(bytesSource(patternBytes(300, 1)));
    await expect(committed.add(bytesSource(patternBytes(5000, 2)), { maxBytes: 10 })).rejects.toBeInstanceOf(
      LarderError,
    );
    expect(await readdir(join(root, 'tmp'))).toHaveLength(1);
    await committed.commit();
    const aborted = store.batch();
    await aborted.add(bytesSource(patternBytes(300, 3)));
    await aborted.abort();
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
    const hash = sha256Of(patternBytes(300, 1));
    expect(await filesUnder(join(root, 'sha256'))).toEqual([join(hash.slice(0, 2), hash), 'levels']);
  });

  it('stores bodies on both sides of the small-body size whole and unchanged, in any chunking', async () => {
    await store.open();
    const cases: [number, number][] = [
      [SMALL_BODY_BYTES - 1, 64 * 1024],
      [SMALL_BODY_BYTES, 64 * 1024],
      [SMALL_BODY_BYTES + 1, 64 * 1024],
      [SMALL_BODY_BYTES * 3 + 7, 100_003],
      [5000, 1],
    ];
    for (const [length, chunkSize] of cases) {
      const bytes = patternBytes(length, length % 251);
      const { sha256, size } = await store.put(bytesSource(bytes, chunkSize), { expectedSha256: sha256Of(bytes) });
      expect({ sha256, size }).toEqual({ sha256: sha256Of(bytes), size: length });
      expect((await readFile(join(root, 'sha256', sha256.slice(0, 2), sha256))).equals(bytes)).toBe(true);
    }
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
  });

  it('refuses a body past maxBytes within its first bytes or in its streamed rest, leaving no temp file', async () => {
    await store.open();
    for (const maxBytes of [1000, SMALL_BODY_BYTES + 10]) {
      const source = bytesSource(patternBytes(SMALL_BODY_BYTES * 2), 64 * 1024);
      await expect(store.put(source, { maxBytes })).rejects.toMatchObject({ name: 'PayloadTooLarge' });
      expect(source.destroyed).toBe(true);
      const batch = store.batch();
      await expect(batch.add(bytesSource(patternBytes(SMALL_BODY_BYTES * 2)), { maxBytes })).rejects.toMatchObject({
        name: 'PayloadTooLarge',
      });
      await batch.commit();
    }
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
    expect(await filesUnder(join(root, 'sha256'))).toEqual(['levels']);
  });
});
