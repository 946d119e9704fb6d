/**
 * The collector against real stores, racing real writers: whatever the interleaving, an
 * upload that was confirmed and a reference that was confirmed keep their blob, and what
 * nobody touched is collected. Runs on SQLite + a folder, and on PostgreSQL + S3 when CI
 * provides them.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { LarderError } from '@larder/protocol';
import { describe, expect, it } from 'vitest';
import { openEachTest, storeAndBlobSetups } from '../test-support/store-and-blobs.js';
import { BLOB_REFS_COLLECTION, BlobReferences } from './blob-references.js';
import { confirmUpload, lastDeletion, recordUpload, survivesCollection } from './blob-uploads.js';
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
});
