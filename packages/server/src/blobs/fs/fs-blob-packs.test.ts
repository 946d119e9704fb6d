/**
 * Packs on disk: which blobs go into them, compaction after deletes (every live blob still
 * whole, the space given back, a read open across it completing), what a crash leaves (a
 * pack without rows, a row without its pack), and a store reopened.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bytesSource, collect, patternBytes, readAll, sha256Of } from '../test-support/byte-sources.js';
import { expectLarderError } from '../test-support/expect-larder-error.js';
import { blobPath } from './fs-blob-layout.js';
import { FsBlobStore, type FsBlobStoreOptions } from './fs-blob-store.js';
import { PACKED_HEADER_BYTES } from './pack-format.js';

const packsOf = async (root: string) =>
  (await readdir(join(root, 'packs')).catch(() => [] as string[])).filter((name) => name.endsWith('.pack')).sort();

/** What `count` packed blobs of `size` bytes take in packs, their headers included. */
const entries = (count: number, size: number) => count * (PACKED_HEADER_BYTES + size);

async function packBytes(root: string): Promise<number> {
  let total = 0;
  for (const name of await packsOf(root)) total += (await stat(join(root, 'packs', name))).size;
  return total;
}

describe('FsBlobStore packs', () => {
  let root: string;
  const stores: FsBlobStore[] = [];

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'larder-blob-packs-'));
  });

  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    await rm(root, { recursive: true, force: true });
  });

  async function openStore(options: Partial<FsBlobStoreOptions> = {}): Promise<FsBlobStore> {
    const store = new FsBlobStore({ root, ...options });
    stores.push(store);
    await store.open();
    return store;
  }

  async function commitBatch(store: FsBlobStore, bodies: readonly Buffer[]) {
    const batch = store.batch();
    await Promise.all(bodies.map((bytes) => batch.add(bytesSource(bytes))));
    return batch.commit();
  }

  async function expectWhole(store: FsBlobStore, bodies: readonly Buffer[]) {
    for (const bytes of bodies) {
      const read = await readAll(await store.get(sha256Of(bytes)));
      expect(sha256Of(read)).toBe(sha256Of(bytes));
    }
  }

  it('packs a batch’s small blobs into one file and leaves larger ones and puts as files', async () => {
    const store = await openStore({ packBlobsUpTo: 4096 });
    const small = Array.from({ length: 50 }, (_, seed) => patternBytes(100 + seed, seed));
    const large = patternBytes(5000, 99);
    const put = patternBytes(200, 98);
    await store.put(bytesSource(put));
    await commitBatch(store, [...small, large]);
    expect(await packsOf(root)).toEqual(['1.pack']);
    expect(await packBytes(root)).toBe(small.reduce((sum, bytes) => sum + PACKED_HEADER_BYTES + bytes.length, 0));
    const files = async (bytes: Buffer) =>
      stat(blobPath(root, sha256Of(bytes), 1)).then(
        () => true,
        () => false,
      );
    expect(await files(large)).toBe(true);
    expect(await files(put)).toBe(true);
    expect(await files(small[0] as Buffer)).toBe(false);
    await expectWhole(store, [...small, large, put]);
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
  });

  it('creates no pack index in a store that never packed a blob', async () => {
    const store = await openStore();
    await store.put(bytesSource(patternBytes(100)));
    await commitBatch(store, [patternBytes(2 * 1024 * 1024, 1)]);
    await expect(stat(join(root, 'packs'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('keeps every packed blob across a reopen, and lists each hash once', async () => {
    const first = await openStore();
    const bodies = Array.from({ length: 120 }, (_, seed) => patternBytes(50 + seed * 13, seed));
    await commitBatch(first, bodies.slice(0, 60));
    await commitBatch(first, bodies.slice(40));
    await first.close();
    const second = await openStore();
    const listed = await collect(second.list());
    expect(listed).toEqual(bodies.map(sha256Of).sort());
    expect(new Set(listed).size).toBe(listed.length);
    await expectWhole(second, bodies);
  });

  it('lists once and deletes both copies of a hash stored both packed and as a file', async () => {
    const store = await openStore();
    const bytes = patternBytes(700, 5);
    const hash = sha256Of(bytes);
    await commitBatch(store, [bytes]);
    // What two uploads racing (a put beside a batch) can leave.
    const path = blobPath(root, hash, 1);
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, bytes);
    expect(await collect(store.list())).toEqual([hash]);
    expect(await store.delete(hash)).toBe(true);
    expect(await store.stat(hash)).toBeUndefined();
    expect(await collect(store.list())).toEqual([]);
  });

  it('compacts a pack after deletes: every live blob whole, the space given back', async () => {
    const store = await openStore();
    const bodies = Array.from({ length: 200 }, (_, seed) => patternBytes(1000 + seed, seed));
    await commitBatch(store, bodies);
    const before = await packBytes(root);
    const dropped = bodies.filter((_, at) => at % 3 !== 0);
    const live = bodies.filter((_, at) => at % 3 === 0);
    for (const bytes of dropped) expect(await store.delete(sha256Of(bytes))).toBe(true);
    await store.compacted();
    const after = await packBytes(root);
    // Compacted once or twice as the deletes went on: at least half of every pack live.
    expect(after).toBeGreaterThanOrEqual(live.reduce((sum, bytes) => sum + bytes.length, 0));
    expect(after).toBeLessThan(before / 2);
    expect(await packsOf(root)).toHaveLength(1);
    expect(await packsOf(root)).not.toContain('1.pack');
    await expectWhole(store, live);
    for (const bytes of dropped) expect(await store.stat(sha256Of(bytes))).toBeUndefined();
    expect(await collect(store.list())).toEqual(live.map(sha256Of).sort());
    // Reopened, the moved rows hold.
    await store.close();
    await expectWhole(await openStore(), live);
  });

  it('unlinks a pack once its last blob is deleted', async () => {
    const store = await openStore();
    const bodies = [patternBytes(300, 1), patternBytes(300, 2)];
    await commitBatch(store, bodies);
    for (const bytes of bodies) await store.delete(sha256Of(bytes));
    await store.compacted();
    expect(await packsOf(root)).toEqual([]);
  });

  it('completes a read opened before the compaction that moves its blob and unlinks its pack', async () => {
    const store = await openStore();
    const kept = patternBytes(200_000, 7);
    const others = Array.from({ length: 8 }, (_, seed) => patternBytes(200_000, seed + 10));
    await commitBatch(store, [kept, ...others]);
    const reading = await store.get(sha256Of(kept));
    const ranged = await store.get(sha256Of(kept), { start: 1000, end: 150_999 });
    for (const bytes of others) await store.delete(sha256Of(bytes));
    await store.compacted();
    const packs = await packsOf(root);
    expect(packs).toHaveLength(1);
    expect(packs).not.toContain('1.pack');
    expect((await readAll(reading)).equals(kept)).toBe(true);
    expect((await readAll(ranged)).equals(kept.subarray(1000, 151_000))).toBe(true);
    await expectWhole(store, [kept]);
  });

  it('keeps every blob readable while deletes, reads and commits run alongside compactions', async () => {
    const store = await openStore();
    const bodies = Array.from({ length: 300 }, (_, seed) => patternBytes(500 + ((seed * 31) % 3000), seed));
    for (let start = 0; start < bodies.length; start += 50) await commitBatch(store, bodies.slice(start, start + 50));
    const dropped = new Set(bodies.filter((_, at) => at % 4 !== 0).map(sha256Of));
    const more = Array.from({ length: 50 }, (_, seed) => patternBytes(800, seed + 1000));
    await Promise.all([
      ...[...dropped].map((hash) => store.delete(hash)),
      ...bodies.map(async (bytes) => {
        const hash = sha256Of(bytes);
        try {
          const read = await readAll(await store.get(hash));
          expect(sha256Of(read)).toBe(hash);
        } catch (error) {
          // Only a blob being deleted may be missing, and then as NotFound.
          expect(dropped.has(hash)).toBe(true);
          expect(error).toMatchObject({ name: 'NotFound' });
        }
      }),
      commitBatch(store, more),
    ]);
    await store.compacted();
    const live = [...bodies.filter((bytes) => !dropped.has(sha256Of(bytes))), ...more];
    await expectWhole(store, live);
    expect(await collect(store.list())).toEqual(live.map(sha256Of).sort());
  });

  it('indexes again, never removes, the blobs of packs an index older than its packs does not name', async () => {
    const first = await openStore();
    const before = [patternBytes(400, 11), patternBytes(500, 12)];
    await commitBatch(first, before);
    await first.close();
    stores.splice(stores.indexOf(first), 1);
    // A copy of the index as it stood then, put back later (a restore, or commits the disk lost).
    const index = join(root, 'packs', 'index.db');
    const copy = await readFile(index);
    const second = await openStore();
    const after = [patternBytes(600, 13), patternBytes(700, 14)];
    await commitBatch(second, after);
    await second.close();
    stores.splice(stores.indexOf(second), 1);
    expect(await packsOf(root)).toEqual(['1.pack', '2.pack']);
    await writeFile(index, copy);
    for (const suffix of ['-wal', '-shm']) await rm(`${index}${suffix}`, { force: true });
    const hourAgo = new Date(Date.now() - 3_600_000);
    await utimes(join(root, 'packs', '2.pack'), hourAgo, hourAgo);

    const warnings: string[] = [];
    const third = await openStore({ onWarning: (message) => warnings.push(message) });
    expect(await packsOf(root)).toEqual(['1.pack', '2.pack']);
    expect(await collect(third.list())).toEqual([...before, ...after].map(sha256Of).sort());
    await expectWhole(third, [...before, ...after]);
    expect(warnings).toEqual([expect.stringMatching(/held 2 blobs its index did not name/)]);
    // Indexed for good: a new pack takes the next number, and the next open finds nothing to mend.
    await commitBatch(third, [patternBytes(800, 15)]);
    expect(await packsOf(root)).toEqual(['1.pack', '2.pack', '3.pack']);
    await third.close();
    stores.splice(stores.indexOf(third), 1);
    const fourth = await openStore({ onWarning: (message) => warnings.push(message) });
    expect(warnings).toHaveLength(1);
    await expectWhole(fourth, [...before, ...after, patternBytes(800, 15)]);
  });

  it('removes on open a pack that a crash left without index rows, keeping the indexed ones', async () => {
    const first = await openStore();
    const bodies = [patternBytes(400, 1), patternBytes(500, 2)];
    await commitBatch(first, bodies);
    await first.close();
    // A pack written and synced, the process killed before its index transaction.
    const leftover = join(root, 'packs', '7.pack');
    await writeFile(leftover, patternBytes(900, 3));
    // Young, it may be another process's commit under way (a folder shared by two servers): kept.
    const young = await openStore();
    expect(await packsOf(root)).toEqual(['1.pack', '7.pack']);
    await young.close();
    stores.splice(stores.indexOf(young), 1);
    const hourAgo = new Date(Date.now() - 3_600_000);
    await utimes(leftover, hourAgo, hourAgo);
    const second = await openStore();
    expect(await packsOf(root)).toEqual(['1.pack']);
    expect(await collect(second.list())).toEqual(bodies.map(sha256Of).sort());
    await expectWhole(second, bodies);
    // New packs are numbered past the removed one; nothing collides.
    await commitBatch(second, [patternBytes(600, 4)]);
    expect(await packsOf(root)).toEqual(['1.pack', '8.pack']);
  });

  it('rebuilds a lost index from the packs, every blob checked, up to a pack cut short', async () => {
    const first = await openStore();
    const one = Array.from({ length: 20 }, (_, seed) => patternBytes(300 + seed, seed));
    const two = Array.from({ length: 3 }, (_, seed) => patternBytes(700, 50 + seed));
    await commitBatch(first, one);
    await commitBatch(first, two);
    await first.close();
    expect(await packsOf(root)).toEqual(['1.pack', '2.pack']);
    for (const name of ['index.db', 'index.db-wal', 'index.db-shm'])
      await rm(join(root, 'packs', name), { force: true });
    // The second pack cut inside its second blob, as a crash mid-write would leave it.
    const second = join(root, 'packs', '2.pack');
    const cut = entries(1, 700) + PACKED_HEADER_BYTES + 100;
    await writeFile(second, (await readFile(second)).subarray(0, cut));
    const warnings: string[] = [];
    const reopened = await openStore({ onWarning: (message) => warnings.push(message) });
    expect(warnings).toEqual([expect.stringContaining('missing while packs are there')]);
    await expectWhole(reopened, [...one, two[0] as Buffer]);
    expect(await collect(reopened.list())).toEqual([...one, two[0] as Buffer].map(sha256Of).sort());
    for (const lost of two.slice(1)) expect(await reopened.stat(sha256Of(lost))).toBeUndefined();
    // The rebuilt index is the store's own again: new packs numbered past the old, deletes as before.
    await commitBatch(reopened, [patternBytes(600, 90)]);
    expect(await packsOf(root)).toEqual(['1.pack', '2.pack', '3.pack']);
    expect(await reopened.delete(sha256Of(two[0] as Buffer))).toBe(true);
    await reopened.close();
    const again = await openStore();
    await expectWhole(again, one);
    expect(await again.stat(sha256Of(two[0] as Buffer))).toBeUndefined();
  });

  it('a byte changed in a pack leaves that blob out of a rebuilt index, and only that one', async () => {
    const first = await openStore();
    const bodies = [patternBytes(400, 1), patternBytes(500, 2)];
    await commitBatch(first, bodies);
    await first.close();
    await rm(join(root, 'packs', 'index.db'), { force: true });
    await rm(join(root, 'packs', 'index.db-wal'), { force: true });
    await rm(join(root, 'packs', 'index.db-shm'), { force: true });
    const pack = join(root, 'packs', '1.pack');
    const bytes = await readFile(pack);
    bytes[PACKED_HEADER_BYTES + 10] = (bytes[PACKED_HEADER_BYTES + 10] as number) ^ 0xff;
    await writeFile(pack, bytes);
    const reopened = await openStore({ onWarning: () => undefined });
    expect(await reopened.stat(sha256Of(bodies[0] as Buffer))).toBeUndefined();
    await expectWhole(reopened, [bodies[1] as Buffer]);
  });

  it('two stores sharing one folder never pick the same pack, and read each other’s blobs', async () => {
    const a = await openStore();
    const b = await openStore();
    const forA = Array.from({ length: 6 }, (_, round) =>
      Array.from({ length: 20 }, (_, seed) => patternBytes(200 + seed, round * 100 + seed)),
    );
    const forB = forA.map((bodies) => bodies.map((bytes) => Buffer.concat([bytes, Buffer.from('b')])));
    await Promise.all([
      (async () => {
        for (const bodies of forA) await commitBatch(a, bodies);
      })(),
      (async () => {
        for (const bodies of forB) await commitBatch(b, bodies);
      })(),
    ]);
    expect(await packsOf(root)).toHaveLength(12);
    await expectWhole(a, forB.flat());
    await expectWhole(b, forA.flat());
  });

  it('a store opened before the folder held any pack reads, lists and deletes what another packs later', async () => {
    const early = await openStore();
    const packing = await openStore();
    const bodies = Array.from({ length: 5 }, (_, seed) => patternBytes(300 + seed, seed));
    await commitBatch(packing, bodies);
    await expectWhole(early, bodies);
    expect(await collect(early.list())).toEqual(bodies.map(sha256Of).sort());
    expect(await early.delete(sha256Of(bodies[0] as Buffer))).toBe(true);
    expect(await packing.stat(sha256Of(bodies[0] as Buffer))).toBeUndefined();
  });

  it('answers a clear store error, not a crash, for a blob whose pack is missing', async () => {
    const store = await openStore();
    const bytes = patternBytes(400, 1);
    const hash = sha256Of(bytes);
    await commitBatch(store, [bytes]);
    await store.close();
    await unlink(join(root, 'packs', '1.pack'));
    const reopened = await openStore();
    // The index still records it: stat answers from the index alone.
    expect(await reopened.stat(hash)).toEqual({ sha256: hash, size: 400 });
    const error = await expectLarderError(reopened.get(hash), 'GeneralError');
    expect(error.message).toContain('pack 1');
    // Deleting it clears the record; the bytes can then be stored again.
    expect(await reopened.delete(hash)).toBe(true);
    await expectLarderError(reopened.get(hash), 'NotFound');
    expect((await commitBatch(reopened, [bytes]))[0]?.created).toBe(true);
    await expectWhole(reopened, [bytes]);
  });

  it('fails a read of a pack cut short with a store error on the stream', async () => {
    const store = await openStore();
    const bytes = patternBytes(100_000, 1);
    await commitBatch(store, [patternBytes(10, 2), bytes]);
    await store.close();
    await writeFile(join(root, 'packs', '1.pack'), patternBytes(500, 2));
    const reopened = await openStore();
    await expect(readAll(await reopened.get(sha256Of(bytes)))).rejects.toMatchObject({ name: 'GeneralError' });
  });

  it('composes packed parts: one answered as itself, several streamed into a new blob', async () => {
    const store = await openStore();
    const parts = [patternBytes(3000, 1), patternBytes(4000, 2)];
    await commitBatch(store, parts);
    const [first, second] = parts.map(sha256Of) as [string, string];
    expect(await store.compose([first], { expectedSha256: first })).toEqual({
      sha256: first,
      size: 3000,
      created: false,
    });
    const whole = Buffer.concat(parts);
    expect(await store.compose([first, second])).toEqual({ sha256: sha256Of(whole), size: 7000, created: true });
    await expectWhole(store, [whole, ...parts]);
  });

  it('closes the index and every pack descriptor on close(), reads ended or not', async () => {
    const openDescriptors = async () => (await readdir('/proc/self/fd')).length;
    const before = await openDescriptors();
    const store = await openStore();
    const bodies = Array.from({ length: 5 }, (_, seed) => patternBytes(100_000, seed));
    await commitBatch(store, bodies.slice(0, 2));
    await commitBatch(store, bodies.slice(2));
    await expectWhole(store, bodies);
    const unread = await store.get(sha256Of(bodies[0] as Buffer));
    unread.destroy();
    await store.close();
    // Descriptors close on the pool: give the last close a moment.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await openDescriptors()).toBe(before);
  });

  it('holds at most the batch cap in memory, staging the rest as files', async () => {
    const store = await openStore({ packBytesPerBatch: 10_000 });
    const bodies = Array.from({ length: 30 }, (_, seed) => patternBytes(1000, seed));
    const results = await commitBatch(store, bodies);
    expect(results.every(({ created }) => created)).toBe(true);
    expect(await packBytes(root)).toBe(entries(10, 1000));
    await expectWhole(store, bodies);
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
  });

  it('holds at most the store-wide cap across batches open at once, and gives it back after each', async () => {
    const store = await openStore({ packBytesHeld: 10_000 });
    const first = store.batch();
    const second = store.batch();
    const firstBodies = Array.from({ length: 8 }, (_, seed) => patternBytes(1000, seed));
    const secondBodies = Array.from({ length: 8 }, (_, seed) => patternBytes(1000, 100 + seed));
    for (const body of firstBodies) await first.add(bytesSource(body));
    // The first batch holds 8,000 bytes: the second may hold only 2,000 of its own.
    for (const body of secondBodies) await second.add(bytesSource(body));
    await second.commit();
    expect(await packBytes(root)).toBe(entries(2, 1000));
    await first.commit();
    expect(await packBytes(root)).toBe(entries(10, 1000));
    // Both gave their bytes back: a third batch packs all of its own again.
    const third = Array.from({ length: 10 }, (_, seed) => patternBytes(1000, 200 + seed));
    await commitBatch(store, third);
    expect(await packBytes(root)).toBe(entries(20, 1000));
    // An aborted batch gives its bytes back too.
    const aborted = store.batch();
    for (const body of third) await aborted.add(bytesSource(body));
    await aborted.abort();
    await commitBatch(
      store,
      Array.from({ length: 10 }, (_, seed) => patternBytes(1000, 300 + seed)),
    );
    expect(await packBytes(root)).toBe(entries(30, 1000));
    await expectWhole(store, [...firstBodies, ...secondBodies, ...third]);
  });
});
