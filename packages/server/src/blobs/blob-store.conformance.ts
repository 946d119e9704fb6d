/**
 * The behaviour every blob store adapter must show, as one Vitest suite. An adapter's test
 * file calls `describeBlobStoreConformance` with a factory for a fresh, empty store; the
 * suite never looks behind the port, so the filesystem and S3 adapters run it unchanged.
 */
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BlobStore } from './blob-store.js';
import { composeBlobs } from './concatenated-blobs.js';
import {
  bytesSource,
  collect,
  countedSource,
  failingSource,
  generatedChunks,
  hashStream,
  patternBytes,
  readAll,
  sha256Of,
  stalledSource,
} from './test-support/byte-sources.js';
import { expectLarderError } from './test-support/expect-larder-error.js';

/** What a conformance factory answers: a fresh, empty, not yet opened store, and how to dispose of it. */
export interface BlobStoreFixture {
  store: BlobStore;
  cleanup: () => Promise<void>;
}

const MIB = 1024 * 1024;
const HOSTILE_HASHES = [
  '',
  'abc',
  '../../etc/passwd',
  '..',
  `../${'a'.repeat(61)}`,
  `sha256/../../${'a'.repeat(51)}`,
  'A'.repeat(64),
  'g'.repeat(64),
  `${'a'.repeat(64)}\n`,
  ` ${'a'.repeat(64)}`,
  `${'a'.repeat(62)}\0a`,
  'a'.repeat(65),
];

/**
 * Declares the blob store conformance suite. Each test gets its own store from
 * `makeStore`, opens it, and closes and cleans it up afterwards.
 *
 * @example
 * describeBlobStoreConformance('FsBlobStore', async () => {
 *   const root = await mkdtemp(join(tmpdir(), 'blobs-'));
 *   return { store: new FsBlobStore({ root }), cleanup: () => rm(root, { recursive: true, force: true }) };
 * });
 */
export function describeBlobStoreConformance(name: string, makeStore: () => Promise<BlobStoreFixture>): void {
  describe(`${name} (blob store conformance)`, () => {
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

    const stored = () => collect(store.list());
    const getBytes = async (sha256: string, range?: { start: number; end: number }) =>
      readAll(await store.get(sha256, range));

    describe('put, stat and get', () => {
      it('stores bytes under their SHA-256 and gives them back', async () => {
        const bytes = patternBytes(300_000);
        const result = await store.put(bytesSource(bytes));
        expect(result).toEqual({ sha256: sha256Of(bytes), size: bytes.length, created: true });
        expect(await store.stat(result.sha256)).toEqual({ sha256: result.sha256, size: bytes.length });
        expect((await getBytes(result.sha256)).equals(bytes)).toBe(true);
      });

      it('stores the empty blob', async () => {
        const result = await store.put(Readable.from([]));
        expect(result).toEqual({ sha256: sha256Of(Buffer.alloc(0)), size: 0, created: true });
        expect(await store.stat(result.sha256)).toEqual({ sha256: result.sha256, size: 0 });
        expect(await getBytes(result.sha256)).toHaveLength(0);
      });

      it('hashes correctly whatever the chunking, down to one byte per chunk', async () => {
        const bytes = patternBytes(5000, 3);
        const result = await store.put(bytesSource(bytes, 1));
        expect(result.sha256).toBe(sha256Of(bytes));
        expect((await getBytes(result.sha256)).equals(bytes)).toBe(true);
      });

      it('round-trips 64 MiB streamed from a generator, never held in memory', { timeout: 120_000 }, async () => {
        const size = 64 * MIB;
        const expected = await hashStream(Readable.from(generatedChunks(size)));
        const result = await store.put(Readable.from(generatedChunks(size)));
        expect(result).toEqual({ ...expected, created: true });
        expect(await store.stat(result.sha256)).toEqual(expected);
        expect(await hashStream(await store.get(result.sha256))).toEqual(expected);
      });

      it('accepts an upload with the expected hash', async () => {
        const bytes = patternBytes(1000);
        const result = await store.put(bytesSource(bytes), { expectedSha256: sha256Of(bytes) });
        expect(result.created).toBe(true);
        expect(await stored()).toEqual([sha256Of(bytes)]);
      });

      it('accepts an upload of exactly maxBytes', async () => {
        const bytes = patternBytes(4096);
        const result = await store.put(bytesSource(bytes, 1000), { maxBytes: 4096 });
        expect(result.size).toBe(4096);
      });

      it('keeps blobs across close() and open()', async () => {
        const bytes = patternBytes(2000);
        const { sha256 } = await store.put(bytesSource(bytes));
        await store.close();
        await store.open();
        expect((await getBytes(sha256)).equals(bytes)).toBe(true);
      });
    });

    describe('deduplication', () => {
      it('stores identical content once and answers the same hash', async () => {
        const bytes = patternBytes(10_000);
        const first = await store.put(bytesSource(bytes));
        const second = await store.put(bytesSource(bytes, 777));
        expect(first.created).toBe(true);
        expect(second).toEqual({ sha256: first.sha256, size: bytes.length, created: false });
        expect(await stored()).toEqual([first.sha256]);
      });

      it('lets concurrent uploads of the same content all succeed, storing one blob', async () => {
        const bytes = patternBytes(2 * MIB, 5);
        const results = await Promise.all(Array.from({ length: 8 }, () => store.put(bytesSource(bytes, 16 * 1024))));
        for (const result of results) expect(result).toMatchObject({ sha256: sha256Of(bytes), size: bytes.length });
        expect(results.some((result) => result.created)).toBe(true);
        expect(await stored()).toEqual([sha256Of(bytes)]);
        expect((await getBytes(sha256Of(bytes))).equals(bytes)).toBe(true);
      });

      it('stores concurrent uploads of different content separately', async () => {
        const contents = Array.from({ length: 6 }, (_, seed) => patternBytes(100_000 + seed, seed));
        const results = await Promise.all(contents.map((bytes) => store.put(bytesSource(bytes, 8192))));
        expect(results.map((result) => result.sha256)).toEqual(contents.map(sha256Of));
        expect(await stored()).toEqual(contents.map(sha256Of).sort());
      });
    });

    describe('compose (the last step of a chunked upload)', () => {
      // 6 MiB parts: S3 joins parts of 5 MiB or more on its side; the last may be smaller.
      const partBytes = [6 * MIB, 6 * MIB, 300_000];
      const partsOf = () => partBytes.map((length, seed) => patternBytes(length, seed + 20));

      it('joins stored parts in order into one blob checked against the expected hash', async () => {
        const contents = partsOf();
        const parts = [];
        for (const bytes of contents) parts.push((await store.put(bytesSource(bytes, MIB))).sha256);
        const whole = Buffer.concat(contents);
        const result = await composeBlobs(store, parts, { expectedSha256: sha256Of(whole) });
        expect(result).toEqual({ sha256: sha256Of(whole), size: whole.length, created: true });
        expect((await getBytes(result.sha256)).equals(whole)).toBe(true);
        expect(await store.stat(result.sha256)).toEqual({ sha256: result.sha256, size: whole.length });
        const again = await composeBlobs(store, parts);
        expect(again).toEqual({ sha256: result.sha256, size: whole.length, created: false });
        // The parts stay as they were.
        expect((await getBytes(parts[2] as string)).equals(contents[2] as Buffer)).toBe(true);
      });

      it('joins parts of any size, a part repeated included', async () => {
        const small = patternBytes(1000, 31);
        const large = patternBytes(7 * MIB, 32);
        const a = (await store.put(bytesSource(small))).sha256;
        const b = (await store.put(bytesSource(large, MIB))).sha256;
        const whole = Buffer.concat([small, large, small]);
        const result = await composeBlobs(store, [a, b, a]);
        expect(result).toMatchObject({ sha256: sha256Of(whole), size: whole.length });
        expect((await getBytes(result.sha256)).equals(whole)).toBe(true);
      });

      it('answers a single part as itself, still checking the expected hash and the limit', async () => {
        const bytes = patternBytes(6 * MIB, 33);
        const part = (await store.put(bytesSource(bytes, MIB))).sha256;
        expect(await composeBlobs(store, [part], { expectedSha256: part })).toEqual({
          sha256: part,
          size: bytes.length,
          created: false,
        });
        await expectLarderError(composeBlobs(store, [part], { expectedSha256: 'f'.repeat(64) }), 'BadRequest');
        await expectLarderError(composeBlobs(store, [part], { maxBytes: bytes.length - 1 }), 'PayloadTooLarge');
        expect(await stored()).toEqual([part]);
      });

      it('stores nothing when the parts do not hash to the expected hash or pass the limit', async () => {
        const contents = partsOf();
        const parts = [];
        for (const bytes of contents) parts.push((await store.put(bytesSource(bytes, MIB))).sha256);
        const whole = Buffer.concat(contents);
        await expectLarderError(composeBlobs(store, parts, { expectedSha256: 'e'.repeat(64) }), 'BadRequest');
        await expectLarderError(composeBlobs(store, parts, { maxBytes: whole.length - 1 }), 'PayloadTooLarge');
        expect(await store.stat(sha256Of(whole))).toBeUndefined();
        expect(await stored()).toEqual([...parts].sort());
      });

      it('refuses a missing part and stores nothing', async () => {
        const bytes = patternBytes(6 * MIB, 34);
        const part = (await store.put(bytesSource(bytes, MIB))).sha256;
        const missing = sha256Of(Buffer.from('never stored'));
        await expectLarderError(composeBlobs(store, [part, missing]), 'NotFound');
        await expectLarderError(composeBlobs(store, [missing]), 'NotFound');
        expect(await stored()).toEqual([part]);
      });
    });

    describe('byte ranges', () => {
      const bytes = patternBytes(1000, 9);
      let sha256: string;
      beforeEach(async () => {
        sha256 = (await store.put(bytesSource(bytes))).sha256;
      });

      it.each([
        ['the first byte', 0, 0],
        ['a middle slice', 100, 199],
        ['the last byte', 999, 999],
        ['the whole blob', 0, 999],
      ])('streams %s (inclusive)', async (_label, start, end) => {
        const slice = await getBytes(sha256, { start, end });
        expect(slice.equals(bytes.subarray(start, end + 1))).toBe(true);
      });

      it.each([
        ['ends past the blob', 0, 1000],
        ['starts past the blob', 1000, 1000],
        ['ends before it starts', 10, 9],
        ['starts below zero', -1, 5],
        ['is fractional', 0.5, 5],
        ['is not a number', Number.NaN, 5],
      ])('refuses a range that %s with BadRequest', async (_label, start, end) => {
        await expectLarderError(store.get(sha256, { start, end }), 'BadRequest');
      });

      it('refuses any range of the empty blob', async () => {
        const empty = await store.put(Readable.from([]));
        await expectLarderError(store.get(empty.sha256, { start: 0, end: 0 }), 'BadRequest');
      });
    });

    describe('absent and malformed hashes', () => {
      const absent = sha256Of(Buffer.from('never stored'));

      it('answers NotFound, undefined and false for a hash never stored', async () => {
        await expectLarderError(store.get(absent), 'NotFound');
        await expectLarderError(store.get(absent, { start: 0, end: 0 }), 'NotFound');
        expect(await store.stat(absent)).toBeUndefined();
        expect(await store.delete(absent)).toBe(false);
      });

      it.each(HOSTILE_HASHES.map((hash) => [JSON.stringify(hash), hash]))(
        'refuses %s as a hash with BadRequest',
        async (_label, hash) => {
          await expectLarderError(store.get(hash), 'BadRequest');
          await expectLarderError(store.stat(hash), 'BadRequest');
          await expectLarderError(store.delete(hash), 'BadRequest');
        },
      );

      it('refuses a malformed expectedSha256 before storing anything', async () => {
        await expectLarderError(store.put(bytesSource(patternBytes(10)), { expectedSha256: 'abc' }), 'BadRequest');
        expect(await stored()).toEqual([]);
      });
    });

    describe('failed uploads store nothing', () => {
      it('refuses content that does not match expectedSha256', async () => {
        const bytes = patternBytes(5000);
        const other = sha256Of(Buffer.from('something else'));
        const error = await expectLarderError(store.put(bytesSource(bytes), { expectedSha256: other }), 'BadRequest');
        expect(error.message).toContain(other);
        expect(error.message).toContain(sha256Of(bytes));
        expect(await store.stat(sha256Of(bytes))).toBeUndefined();
        expect(await stored()).toEqual([]);
      });

      it('refuses an upload past maxBytes with PayloadTooLarge and destroys the source', async () => {
        const bytes = patternBytes(4097);
        const source = bytesSource(bytes, 1000);
        await expectLarderError(store.put(source, { maxBytes: 4096 }), 'PayloadTooLarge');
        expect(source.destroyed).toBe(true);
        expect(await store.stat(sha256Of(bytes))).toBeUndefined();
        expect(await stored()).toEqual([]);
      });

      it('stops reading a large upload soon after it passes maxBytes', async () => {
        const source = countedSource(256 * MIB);
        await expectLarderError(store.put(source.stream, { maxBytes: MIB }), 'PayloadTooLarge');
        expect(source.stream.destroyed).toBe(true);
        // Allow for what stream buffers hold in flight, nothing like the whole upload.
        expect(source.pulled()).toBeLessThan(4 * MIB);
        expect(await stored()).toEqual([]);
      });

      it('stores nothing when the source fails midway, and rethrows its error', async () => {
        const source = failingSource(patternBytes(50_000), new Error('connection reset by peer'));
        await expect(store.put(source)).rejects.toThrow('connection reset by peer');
        expect(await stored()).toEqual([]);
      });

      it('stores nothing when the source is destroyed midway', async () => {
        const upload = stalledSource(patternBytes(50_000), patternBytes(10));
        const putting = store.put(upload.stream);
        await upload.stalled;
        upload.stream.destroy();
        await expect(putting).rejects.toThrow();
        expect(await stored()).toEqual([]);
      });

      it('keeps an already stored copy when a later upload of it fails', async () => {
        const bytes = patternBytes(3000);
        const { sha256 } = await store.put(bytesSource(bytes));
        await expectLarderError(store.put(bytesSource(bytes), { maxBytes: 100 }), 'PayloadTooLarge');
        const wrong = sha256Of(Buffer.from('x'));
        await expectLarderError(store.put(bytesSource(bytes), { expectedSha256: wrong }), 'BadRequest');
        expect(await stored()).toEqual([sha256]);
        expect((await getBytes(sha256)).equals(bytes)).toBe(true);
      });

      it('shows nothing of an upload still in progress', async () => {
        const head = patternBytes(100_000, 1);
        const tail = patternBytes(100_000, 2);
        const whole = sha256Of(Buffer.concat([head, tail]));
        const upload = stalledSource(head, tail);
        const putting = store.put(upload.stream);
        await upload.stalled;
        expect(await store.stat(whole)).toBeUndefined();
        expect(await stored()).toEqual([]);
        upload.resume();
        expect(await putting).toMatchObject({ sha256: whole, size: 200_000, created: true });
        expect(await stored()).toEqual([whole]);
      });
    });

    describe('delete and list', () => {
      it('lists nothing in an empty store', async () => {
        expect(await stored()).toEqual([]);
      });

      it('lists every stored hash once', async () => {
        const hashes = await Promise.all(
          [1, 2, 3, 4, 5].map(async (seed) => (await store.put(bytesSource(patternBytes(100, seed)))).sha256),
        );
        await store.put(bytesSource(patternBytes(100, 1)));
        const listed = await stored();
        expect([...listed].sort()).toEqual([...hashes].sort());
      });

      it('deletes a blob, answering whether it existed', async () => {
        const keep = await store.put(bytesSource(patternBytes(100, 1)));
        const drop = await store.put(bytesSource(patternBytes(100, 2)));
        expect(await store.delete(drop.sha256)).toBe(true);
        expect(await store.delete(drop.sha256)).toBe(false);
        expect(await store.stat(drop.sha256)).toBeUndefined();
        await expectLarderError(store.get(drop.sha256), 'NotFound');
        expect(await stored()).toEqual([keep.sha256]);
        expect(await store.stat(keep.sha256)).toEqual({ sha256: keep.sha256, size: 100 });
      });

      it('stores content again after it was deleted', async () => {
        const bytes = patternBytes(100);
        const { sha256 } = await store.put(bytesSource(bytes));
        await store.delete(sha256);
        expect(await store.put(bytesSource(bytes))).toEqual({ sha256, size: 100, created: true });
        expect((await getBytes(sha256)).equals(bytes)).toBe(true);
      });
    });
  });
}
