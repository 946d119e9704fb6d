/**
 * The collector against real stores, racing real writers: whatever the interleaving, an
 * upload that was confirmed and a reference that was confirmed keep their blob, and what
 * nobody touched is collected. Runs on SQLite + a folder, and on PostgreSQL + S3 when CI
 * provides them.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { eq, LarderError } from '@larder/protocol';
import { describe, expect, it, vi } from 'vitest';
import { openEachTest, storeAndBlobSetups } from '../test-support/store-and-blobs.js';
import { BLOB_REFS_COLLECTION, BlobReferences, WRITE_HOLDS_OWNER } from './blob-references.js';
import {
  BLOB_COLLECTING_COLLECTION,
  confirmUpload,
  lastDeletion,
  recordUpload,
  survivesCollection,
} from './blob-uploads.js';
import { GarbageCollector } from './garbage-collector.js';

describe.each(storeAndBlobSetups('gc', 's3'))('garbage collection on %s', (_name, make) => {
  const open = openEachTest(make);

  const HOUR = 3_600_000;

  it('confirmed uploads and references survive collections running at the same time; the rest goes', async () => {
    const { store, blobs } = await open();
    const contents = Array.from({ length: 36 }, (_, index) => randomBytes(2000 + index));
    const hashes: string[] = [];
    for (const bytes of contents) {
      const { sha256 } = await blobs.put(Readable.from([bytes]));
      await recordUpload(store, sha256, Date.now() - HOUR);
      hashes.push(sha256);
    }
    const references = new BlobReferences(store);
    const kept = new Set<string>();
    const toldGone = new Set<string>();

    const reupload = async (index: number) => {
      const bytes = contents[index] as Buffer;
      const { sha256 } = await blobs.put(Readable.from([bytes]));
      try {
        await confirmUpload(store, blobs, sha256);
        kept.add(sha256);
      } catch (error) {
        if (!(error instanceof LarderError && error.name === 'Unavailable')) throw error;
        toldGone.add(sha256);
      }
    };
    const reference = async (index: number) => {
      const sha256 = hashes[index] as string;
      await references.add(`things/${index}`, [sha256]);
      if (await survivesCollection(store, blobs, sha256)) kept.add(sha256);
      else toldGone.add(sha256);
    };
    const collector = new GarbageCollector(store, blobs);
    const collections = (async () => {
      for (let round = 0; round < 4; round += 1) await collector.collect({ graceMs: HOUR / 2 });
    })();
    const writers = (async () => {
      for (let index = 0; index < 24; index += 1) await (index % 2 === 0 ? reupload(index) : reference(index));
    })();
    await Promise.all([collections, writers]);

    expect(kept.size + toldGone.size).toBe(24);
    for (const sha256 of kept) expect(await blobs.stat(sha256), `kept ${sha256}`).toBeDefined();
    // Blobs nobody touched were old and unreferenced: all collected.
    await collector.collect({ graceMs: HOUR / 2 });
    for (const sha256 of hashes.slice(24)) expect(await blobs.stat(sha256)).toBeUndefined();
    // References kept theirs, even past the grace period; the last collection kept every
    // re-upload too, since they are recent.
    for (const sha256 of kept) expect(await blobs.stat(sha256)).toBeDefined();
  });

  it('drops references whose record is gone and then reclaims the blob', async () => {
    const { store, blobs } = await open();
    const { sha256 } = await blobs.put(Readable.from([randomBytes(4096)]));
    await recordUpload(store, sha256, Date.now() - HOUR);
    await store.ensureCollection('things');
    await store.insert('things', [{ _id: 'alive', file: { sha256 } }]);
    await store.ensureCollection(BLOB_REFS_COLLECTION);
    await store.insert(BLOB_REFS_COLLECTION, [
      { _id: `${sha256}:things/alive`, sha256, owner: 'things/alive', at: Date.now() - HOUR },
      { _id: `${sha256}:things/crashed`, sha256, owner: 'things/crashed', at: Date.now() - HOUR },
    ]);
    const collector = new GarbageCollector(store, blobs);
    const first = await collector.collect({ graceMs: 60_000 });
    expect(first).toMatchObject({ danglingReferences: 1, deleted: 0, referenced: 1 });
    expect(await blobs.stat(sha256)).toBeDefined();

    await store.remove('things', { op: 'all' });
    const second = await collector.collect({ graceMs: 60_000 });
    expect(second).toMatchObject({ danglingReferences: 1, deleted: 1, bytesFreed: 4096 });
    expect(await blobs.stat(sha256)).toBeUndefined();
  });

  it('a dry run changes nothing', async () => {
    const { store, blobs } = await open();
    const { sha256 } = await blobs.put(Readable.from([randomBytes(100)]));
    const report = await new GarbageCollector(store, blobs).collect({ graceMs: 0, dryRun: true });
    expect(report).toMatchObject({ scanned: 1, deleted: 1, bytesFreed: 100, dryRun: true });
    expect(await blobs.stat(sha256)).toBeDefined();
  });

  it('writes a new deletion token with each delete, and none when it deletes nothing', async () => {
    const { store, blobs } = await open();
    const collector = new GarbageCollector(store, blobs);
    const start = await lastDeletion(store);
    const { sha256 } = await blobs.put(Readable.from([randomBytes(100)]));
    await recordUpload(store, sha256);
    await collector.collect({ graceMs: HOUR });
    expect(await lastDeletion(store)).toBe(start);
    await collector.collect({ graceMs: 0 });
    const afterOne = await lastDeletion(store);
    expect(afterOne).not.toBe(start);
    expect(await blobs.stat(sha256)).toBeUndefined();
    await collector.collect({ graceMs: 0 });
    expect(await lastDeletion(store)).toBe(afterOne);
  });

  it('an undo or a drop takes no reference another writer touched since', async () => {
    const { store, blobs } = await open();
    const references = new BlobReferences(store);
    const { sha256 } = await blobs.put(Readable.from([randomBytes(100)]));
    const count = () => store.count(BLOB_REFS_COLLECTION, eq(['sha256'], sha256));
    // Two writers of one owner: the first inserts the row, the second finds it and touches it.
    const first = await references.add('things/x', [sha256]);
    expect(first).toHaveLength(1);
    const second = await references.add('things/x', [sha256]);
    expect(second).toHaveLength(0);
    // The first write fails: its undo leaves the row the second now relies on.
    await references.remove(first);
    expect(await count()).toBe(1);
    // Alone, an undo takes what it inserted.
    const alone = await references.add('things/y', [sha256]);
    await references.remove(alone);
    expect(await store.count(BLOB_REFS_COLLECTION, eq(['owner'], 'things/y'))).toBe(0);
    // A writer dropping what its record no longer names keeps a row touched after its write began.
    const since = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await references.add('things/x', [sha256]);
    await references.removeUntouchedSince([{ sha256, owner: 'things/x' }], since);
    await references.release(['things/x'], since);
    expect(await count()).toBe(1);
    await references.removeUntouchedSince([{ sha256, owner: 'things/x' }], Date.now() + 1);
    expect(await count()).toBe(0);
  });

  it('keeps a young reference with no record, whatever the grace, and one a writer touched', async () => {
    const { store, blobs } = await open();
    const { sha256 } = await blobs.put(Readable.from([randomBytes(100)]));
    const references = new BlobReferences(store);
    // A write under way: its reference is in, its record not yet.
    await references.add('things/coming', [sha256]);
    const collector = new GarbageCollector(store, blobs);
    expect(await collector.collect({ graceMs: 0 })).toMatchObject({ danglingReferences: 0, deleted: 0 });
    expect(await blobs.stat(sha256)).toBeDefined();
    // An old one, touched again by a writer re-creating the record, stays too.
    await store.modify(BLOB_REFS_COLLECTION, eq(['sha256'], sha256), (row) => ({ ...row, at: Date.now() - HOUR }));
    await references.add('things/coming', [sha256]);
    expect(await collector.collect({ graceMs: 0 })).toMatchObject({ danglingReferences: 0, deleted: 0 });
    // Left an hour: dropped, and the blob goes.
    await store.modify(BLOB_REFS_COLLECTION, eq(['sha256'], sha256), (row) => ({ ...row, at: Date.now() - HOUR }));
    expect(await collector.collect({ graceMs: 0 })).toMatchObject({ danglingReferences: 1, deleted: 1 });
    expect(await blobs.stat(sha256)).toBeUndefined();
  });

  it("drops a write's own hold that a crash left behind, once it is old", async () => {
    const { store, blobs } = await open();
    const { sha256 } = await blobs.put(Readable.from([randomBytes(100)]));
    // A patch held the blob, then the process died before releasing its hold.
    await new BlobReferences(store).add(`${WRITE_HOLDS_OWNER}/crashed`, [sha256]);
    const collector = new GarbageCollector(store, blobs);
    expect(await collector.collect({ graceMs: 0 })).toMatchObject({ danglingReferences: 0, deleted: 0 });
    await store.modify(BLOB_REFS_COLLECTION, eq(['sha256'], sha256), (row) => ({ ...row, at: Date.now() - HOUR }));
    expect(await collector.collect({ graceMs: 0 })).toMatchObject({ danglingReferences: 1, deleted: 1 });
    expect(await blobs.stat(sha256)).toBeUndefined();
  });

  it('a collector that stalls past the trust of its mark deletes nothing', async () => {
    const { store, blobs } = await open();
    const { sha256 } = await blobs.put(Readable.from([randomBytes(100)]));
    // The stat of the candidate, taken after its last check, stalls six minutes.
    let stalled = false;
    const slow = new Proxy(blobs, {
      get(object, key) {
        const value = Reflect.get(object, key, object);
        if (key !== 'stat' || typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          const answer = await value.apply(object, args);
          if (!stalled) {
            stalled = true;
            const now = Date.now();
            vi.spyOn(Date, 'now').mockImplementation(() => now + 6 * 60_000);
          }
          return answer;
        };
      },
    });
    try {
      const report = await new GarbageCollector(store, slow).collect({ graceMs: 0 });
      expect(stalled).toBe(true);
      expect(report.deleted).toBe(0);
    } finally {
      vi.restoreAllMocks();
    }
    expect(await blobs.stat(sha256)).toBeDefined();
    expect(await store.count(BLOB_COLLECTING_COLLECTION, { op: 'all' })).toBe(0);
    // Unhurried, the next collection takes it.
    expect((await new GarbageCollector(store, blobs).collect({ graceMs: 0 })).deleted).toBe(1);
  });
});
