/**
 * The behaviour of a batch of puts (`startBlobBatch`), as one Vitest suite every blob store
 * adapter runs: a store's own batch and the fallback of one `put` per blob answer the same.
 * A store with a batch of its own also shows nothing of it before `commit`, and nothing
 * after `abort`.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BlobStoreFixture } from './blob-store.conformance.js';
import type { BlobStore } from './blob-store.js';
import { startBlobBatch } from './blob-store-batch.js';
import {
  bytesSource,
  collect,
  failingSource,
  patternBytes,
  readAll,
  sha256Of,
  stalledSource,
} from './test-support/byte-sources.js';
import { expectLarderError } from './test-support/expect-larder-error.js';

/**
 * Declares the batch suite over fresh stores from `makeStore` (the factory the blob store
 * conformance suite takes).
 *
 * @example
 * describeBlobBatchConformance('FsBlobStore', makeFsStore);
 */
export function describeBlobBatchConformance(name: string, makeStore: () => Promise<BlobStoreFixture>): void {
  describe(`${name} (blob batch conformance)`, () => {
    let fixture: BlobStoreFixture | undefined;
    let store: BlobStore;

    beforeEach(async () => {
      fixture = await makeStore();
      store = fixture.store;
      await store.open();
    });

    afterEach(async () => {
      await fixture?.store.close();
      await fixture?.cleanup();
      fixture = undefined;
    });

    const stored = async () => (await collect(store.list())).sort();

    it('stores every blob added, answering each as put would, in add order', async () => {
      const known = patternBytes(700, 40);
      await store.put(bytesSource(known));
      const contents = [...Array.from({ length: 40 }, (_, seed) => patternBytes(1000 + seed * 37, seed + 41)), known];
      const batch = startBlobBatch(store);
      const staged = await Promise.all(contents.map((bytes) => batch.add(bytesSource(bytes, 333))));
      expect(staged).toEqual(contents.map((bytes) => ({ sha256: sha256Of(bytes), size: bytes.length })));
      const results = await batch.commit();
      expect(results).toEqual(
        contents.map((bytes) => ({ sha256: sha256Of(bytes), size: bytes.length, created: bytes !== known })),
      );
      expect(await stored()).toEqual(contents.map(sha256Of).sort());
      for (const bytes of contents) expect((await readAll(await store.get(sha256Of(bytes)))).equals(bytes)).toBe(true);
    });

    it('stores the same bytes added twice once, as concurrent puts would', async () => {
      const bytes = patternBytes(5000, 50);
      const batch = startBlobBatch(store);
      await Promise.all([batch.add(bytesSource(bytes)), batch.add(bytesSource(bytes, 100))]);
      const results = await batch.commit();
      expect(results.map(({ sha256, size }) => ({ sha256, size }))).toEqual([
        { sha256: sha256Of(bytes), size: 5000 },
        { sha256: sha256Of(bytes), size: 5000 },
      ]);
      expect(results.some((result) => result.created)).toBe(true);
      expect(await stored()).toEqual([sha256Of(bytes)]);
    });

    it('leaves out each blob that fails, with put’s errors, and stores the others', async () => {
      const good = patternBytes(3000, 51);
      const tooLarge = bytesSource(patternBytes(4097, 52), 1000);
      const batch = startBlobBatch(store);
      const kept = batch.add(bytesSource(good));
      const refusals = [
        expectLarderError(batch.add(tooLarge, { maxBytes: 4096 }), 'PayloadTooLarge'),
        expectLarderError(
          batch.add(bytesSource(patternBytes(100, 53)), { expectedSha256: 'e'.repeat(64) }),
          'BadRequest',
        ),
        expectLarderError(batch.add(bytesSource(patternBytes(100, 54)), { expectedSha256: 'abc' }), 'BadRequest'),
        expect(batch.add(failingSource(patternBytes(9000, 55), new Error('connection reset')))).rejects.toThrow(
          'connection reset',
        ),
      ];
      await Promise.all(refusals);
      expect(tooLarge.destroyed).toBe(true);
      await kept;
      expect(await batch.commit()).toEqual([{ sha256: sha256Of(good), size: good.length, created: true }]);
      expect(await stored()).toEqual([sha256Of(good)]);
    });

    it('waits at commit for a blob still arriving', async () => {
      const head = patternBytes(50_000, 56);
      const tail = patternBytes(50_000, 57);
      const upload = stalledSource(head, tail);
      const batch = startBlobBatch(store);
      const adding = batch.add(upload.stream);
      await upload.stalled;
      const committing = batch.commit();
      upload.resume();
      const whole = Buffer.concat([head, tail]);
      expect(await adding).toEqual({ sha256: sha256Of(whole), size: whole.length });
      expect(await committing).toEqual([{ sha256: sha256Of(whole), size: whole.length, created: true }]);
      expect(await stored()).toEqual([sha256Of(whole)]);
    });

    it('commits an empty batch, and refuses any use once committed or aborted', async () => {
      const committed = startBlobBatch(store);
      expect(await committed.commit()).toEqual([]);
      await expect(committed.add(bytesSource(patternBytes(10)))).rejects.toThrow('already committed or aborted');
      await expect(committed.commit()).rejects.toThrow('already committed or aborted');
      const aborted = startBlobBatch(store);
      await aborted.abort();
      await expect(aborted.add(bytesSource(patternBytes(10)))).rejects.toThrow('already committed or aborted');
      await expect(aborted.abort()).rejects.toThrow('already committed or aborted');
      expect(await stored()).toEqual([]);
    });

    it('serves every blob of a batch of many small ones: stat, get, ranges, list and delete', async () => {
      const contents = [
        Buffer.alloc(0),
        ...Array.from({ length: 300 }, (_, seed) => patternBytes(1 + ((seed * 97) % 9000), seed + 60)),
      ];
      const batch = startBlobBatch(store);
      await Promise.all(contents.map((bytes) => batch.add(bytesSource(bytes, 1000))));
      await batch.commit();
      const hashes = contents.map(sha256Of);
      expect(await stored()).toEqual([...hashes].sort());
      for (const bytes of contents) {
        const hash = sha256Of(bytes);
        expect(await store.stat(hash)).toEqual({ sha256: hash, size: bytes.length });
        expect((await readAll(await store.get(hash))).equals(bytes)).toBe(true);
        if (bytes.length === 0) {
          await expectLarderError(store.get(hash, { start: 0, end: 0 }), 'BadRequest');
          continue;
        }
        const start = Math.floor(bytes.length / 3);
        const end = bytes.length - 1 - Math.floor(bytes.length / 5);
        expect((await readAll(await store.get(hash, { start, end }))).equals(bytes.subarray(start, end + 1))).toBe(
          true,
        );
        expect((await readAll(await store.get(hash, { start: end, end }))).equals(bytes.subarray(end, end + 1))).toBe(
          true,
        );
        await expectLarderError(store.get(hash, { start: 0, end: bytes.length }), 'BadRequest');
      }
      // Deleting every other blob leaves the rest whole.
      for (const [at, hash] of hashes.entries()) if (at % 2 === 0) expect(await store.delete(hash)).toBe(true);
      for (const [at, bytes] of contents.entries()) {
        const hash = sha256Of(bytes);
        if (at % 2 === 0) {
          expect(await store.stat(hash)).toBeUndefined();
          await expectLarderError(store.get(hash), 'NotFound');
          expect(await store.delete(hash)).toBe(false);
        } else expect((await readAll(await store.get(hash))).equals(bytes)).toBe(true);
      }
      expect(await stored()).toEqual(hashes.filter((_, at) => at % 2 === 1).sort());
      for (const [at, hash] of hashes.entries()) if (at % 2 === 1) expect(await store.delete(hash)).toBe(true);
      expect(await stored()).toEqual([]);
    });

    it('stores the same bytes once across batches and across put and batch, in either order', async () => {
      const [first, second, third] = [patternBytes(3000, 70), patternBytes(3001, 71), patternBytes(3002, 72)];
      const one = startBlobBatch(store);
      await Promise.all([one.add(bytesSource(first)), one.add(bytesSource(second))]);
      expect((await one.commit()).map(({ created }) => created)).toEqual([true, true]);
      // Put after batch, then batch after batch and batch after put.
      expect((await store.put(bytesSource(first))).created).toBe(false);
      await store.put(bytesSource(third));
      const two = startBlobBatch(store);
      await Promise.all([two.add(bytesSource(second)), two.add(bytesSource(third)), two.add(bytesSource(first))]);
      expect(await two.commit()).toEqual(
        [second, third, first].map((bytes) => ({ sha256: sha256Of(bytes), size: bytes.length, created: false })),
      );
      expect(await stored()).toEqual([first, second, third].map(sha256Of).sort());
      for (const bytes of [first, second, third]) {
        expect((await readAll(await store.get(sha256Of(bytes)))).equals(bytes)).toBe(true);
      }
      // Deleted once, gone whichever way it was stored; stored again afterwards.
      for (const bytes of [first, third]) {
        expect(await store.delete(sha256Of(bytes))).toBe(true);
        expect(await store.stat(sha256Of(bytes))).toBeUndefined();
      }
      const three = startBlobBatch(store);
      await three.add(bytesSource(first));
      expect((await three.commit()).map(({ created }) => created)).toEqual([true]);
      expect(await stored()).toEqual([first, second].map(sha256Of).sort());
    });

    it('loses nothing already stored when a blob of a later batch fails its expected hash', async () => {
      const kept = [patternBytes(2000, 80), patternBytes(2100, 81)];
      const earlier = startBlobBatch(store);
      for (const bytes of kept) await earlier.add(bytesSource(bytes));
      await earlier.commit();
      const later = startBlobBatch(store);
      const fresh = patternBytes(2200, 82);
      const adding = later.add(bytesSource(fresh));
      await expectLarderError(
        later.add(bytesSource(kept[0] as Buffer), { expectedSha256: sha256Of(fresh) }),
        'BadRequest',
      );
      await expectLarderError(
        later.add(bytesSource(patternBytes(10, 83)), { expectedSha256: sha256Of(fresh) }),
        'BadRequest',
      );
      await adding;
      expect(await later.commit()).toEqual([{ sha256: sha256Of(fresh), size: fresh.length, created: true }]);
      expect(await stored()).toEqual([...kept, fresh].map(sha256Of).sort());
      for (const bytes of [...kept, fresh])
        expect((await readAll(await store.get(sha256Of(bytes)))).equals(bytes)).toBe(true);
    });

    it('shows nothing before commit, and nothing after abort, when the store batches itself', async () => {
      if (!store.batch) return;
      const contents = [patternBytes(2000, 58), patternBytes(2000, 59)];
      const first = startBlobBatch(store);
      for (const bytes of contents) await first.add(bytesSource(bytes));
      expect(await stored()).toEqual([]);
      for (const bytes of contents) expect(await store.stat(sha256Of(bytes))).toBeUndefined();
      await first.abort();
      expect(await stored()).toEqual([]);
      const second = startBlobBatch(store);
      for (const bytes of contents) await second.add(bytesSource(bytes));
      await second.commit();
      expect(await stored()).toEqual(contents.map(sha256Of).sort());
    });
  });
}
