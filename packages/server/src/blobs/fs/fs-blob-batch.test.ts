/**
 * The filesystem batch on disk: small staged files kept open until the commit (within the
 * store's budget, and closed again whatever the outcome), a batch cut short by the process
 * ending, and a commit that fails part way.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bytesSource, collect, patternBytes, sha256Of } from '../test-support/byte-sources.js';
import { blobPath } from './fs-blob-layout.js';
import { FsBlobStore } from './fs-blob-store.js';

const FILES = 40;
const contents = Array.from({ length: FILES }, (_, index) => patternBytes(200 + index, index));
const blobFile = (root: string, sha256: string) => blobPath(root, sha256, 1);
/** This process's open descriptors (Linux). */
const openDescriptors = async () => (await readdir('/proc/self/fd')).length;

describe('FsBlobStore batches on disk', () => {
  let root: string;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'larder-blob-batch-'));
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function stage(store: FsBlobStore, bodies: readonly Buffer[]) {
    const batch = store.batch();
    await Promise.all(bodies.map((bytes) => batch.add(bytesSource(bytes))));
    return batch;
  }

  async function expectStoredWhole(store: FsBlobStore, bodies: readonly Buffer[]) {
    expect((await collect(store.list())).sort()).toEqual(bodies.map(sha256Of).sort());
    for (const bytes of bodies) expect((await readFile(blobFile(root, sha256Of(bytes)))).equals(bytes)).toBe(true);
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
  }

  for (const keptOpenFiles of [0, 7, 1024]) {
    it(`stores every file of a batch whole with a budget of ${keptOpenFiles} open files, leaving none open`, async () => {
      const store = new FsBlobStore({ root, keptOpenFiles, packBlobsUpTo: 0 });
      await store.open();
      const before = existsSync('/proc/self/fd') ? await openDescriptors() : undefined;
      const batch = await stage(store, contents);
      if (before !== undefined) {
        // Staged and not yet committed: the budget's files are still open, no more.
        expect(await openDescriptors()).toBe(before + Math.min(keptOpenFiles, FILES));
      }
      const results = await batch.commit();
      expect(results.map((result) => result.created)).toEqual(contents.map(() => true));
      await expectStoredWhole(store, contents);
      if (before !== undefined) expect(await openDescriptors()).toBe(before);
      // The budget came back whole: a second batch keeps as many open again.
      const second = await stage(store, [patternBytes(99, 250), patternBytes(98, 251)]);
      if (before !== undefined) expect(await openDescriptors()).toBe(before + Math.min(keptOpenFiles, 2));
      await second.abort();
      if (before !== undefined) expect(await openDescriptors()).toBe(before);
      await store.close();
    });
  }

  it('shows nothing of a batch the process ended before committing; the next open() removes its files', async () => {
    const store = new FsBlobStore({ root, packBlobsUpTo: 0 });
    await store.open();
    const cutShort = await stage(store, contents.slice(0, 5));
    expect(await readdir(join(root, 'tmp'))).toHaveLength(5);

    // What a restart sees: a new store on the same root, the old batch's files still open.
    const restarted = new FsBlobStore({ root, packBlobsUpTo: 0 });
    await restarted.open();
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
    expect(await collect(restarted.list())).toEqual([]);
    for (const bytes of contents.slice(0, 5)) expect(await restarted.stat(sha256Of(bytes))).toBeUndefined();
    // The old batch can still end (its temp files gone already) and closes its descriptors.
    await cutShort.abort();
    expect(await collect(restarted.list())).toEqual([]);
  });

  it('refuses a commit that cannot place a blob, leaving every placed blob whole and no temp file or descriptor', async () => {
    const store = new FsBlobStore({ root, packBlobsUpTo: 0 });
    await store.open();
    const blocked = contents[0] as Buffer;
    const hash = sha256Of(blocked);
    // A file where the blob's first-level shard directory belongs: it cannot be made.
    await writeFile(join(root, 'sha256', hash.slice(0, 2)), 'not a directory');
    const others = contents.slice(1).filter((bytes) => sha256Of(bytes).slice(0, 2) !== hash.slice(0, 2));
    const before = existsSync('/proc/self/fd') ? await openDescriptors() : undefined;
    const batch = await stage(store, [blocked, ...others]);
    await expect(batch.commit()).rejects.toMatchObject({ name: 'GeneralError' });
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
    if (before !== undefined) expect(await openDescriptors()).toBe(before);
    expect(await collect(store.list())).not.toContain(hash);
    // Whatever the failed commit placed is whole, never a part of a file.
    for (const sha256 of await collect(store.list())) {
      const bytes = others.find((each) => sha256Of(each) === sha256);
      expect(bytes && (await readFile(blobFile(root, sha256))).equals(bytes)).toBe(true);
    }
  });

  it('places blobs again in shard directories removed behind its back, in a batch as in a put', async () => {
    const store = new FsBlobStore({ root, packBlobsUpTo: 0 });
    await store.open();
    await (await stage(store, contents.slice(0, 3))).commit();
    await store.put(bytesSource(contents[3] as Buffer));
    // Someone empties the store by hand: every shard directory the store knows is gone.
    await rm(join(root, 'sha256'), { recursive: true });
    await mkdir(join(root, 'sha256'));
    const results = await (await stage(store, contents.slice(0, 3))).commit();
    expect(results.map((result) => result.created)).toEqual([true, true, true]);
    expect((await store.put(bytesSource(contents[3] as Buffer))).created).toBe(true);
    await expectStoredWhole(store, contents.slice(0, 4));
    // Only a shard directory removed: the one beneath it is made again too.
    const again = contents[0] as Buffer;
    await rm(join(root, 'sha256', sha256Of(again).slice(0, 2)), { recursive: true });
    expect((await store.put(bytesSource(again))).created).toBe(true);
    expect((await readFile(blobFile(root, sha256Of(again)))).equals(again)).toBe(true);
  });
});
