/**
 * Records that name blobs, written through the document service while garbage collections
 * run: a whole collection is put before each call a create or a patch makes on the stores,
 * on SQLite + a folder and on PostgreSQL + S3. Whatever the interleaving, no record is left
 * naming a deleted blob: the write either lands with its blob kept, or fails (the 503 that
 * asks for the bytes again, or the naming check's 400) and writes nothing. The blobs are old
 * uploads, unreferenced, that the writer holds a claim to: exactly what a collection deletes.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { eq, LarderError } from '@larder/protocol';
import { describe, expect, it } from 'vitest';
import { ownershipPolicy } from '../../auth/access-policy.js';
import type { Actor, UserRecord } from '../../auth/actor.js';
import { recordBlobClaim } from '../../auth/blob-access.js';
import type { BlobStore } from '../../blobs/blob-store.js';
import { BLOB_REFS_COLLECTION } from '../../blobs/lifecycle/blob-references.js';
import { recordUpload } from '../../blobs/lifecycle/blob-uploads.js';
import { GarbageCollector } from '../../blobs/lifecycle/garbage-collector.js';
import { stepped } from '../../blobs/test-support/stepped-calls.js';
import { openEachTest, storeAndBlobSetups } from '../../blobs/test-support/store-and-blobs.js';
import type { DocumentStore, StoredDocument } from '../../stores/document-store.js';
import { DocumentService } from './document-service.js';

const HOUR = 3_600_000;
const THINGS = 'things';
const user: UserRecord = { _id: 'writer', email: 'writer@example.com', role: 'user' };
const actor: Actor = { kind: 'user', user };
const params = { provider: 'rest', user };

describe.each(storeAndBlobSetups('docblobs', 's3'))(
  'records naming blobs while they are collected, on %s',
  (_name, make) => {
    const open = openEachTest(make);

    function service(store: DocumentStore, blobs: BlobStore): DocumentService {
      return new DocumentService({ store, blobs, collection: THINGS, policy: ownershipPolicy, authEnabled: true });
    }

    /** An upload of an hour ago that nothing references, claimed by the writer. */
    async function oldBlob(store: DocumentStore, blobs: BlobStore): Promise<{ sha256: string; size: number }> {
      const { sha256, size } = await blobs.put(Readable.from([randomBytes(300)]));
      await recordUpload(store, sha256, Date.now() - HOUR);
      await recordBlobClaim(store, actor, sha256);
      return { sha256, size };
    }

    /** Every blob a record names is stored, and a collection now (no grace) keeps it. */
    async function expectRecordsHold(store: DocumentStore, blobs: BlobStore): Promise<void> {
      const named = (await store.find(THINGS, { filter: { op: 'all' } }))
        .map((record) => (record.file as { sha256?: string } | undefined)?.sha256)
        .filter((sha256): sha256 is string => sha256 !== undefined);
      for (const sha256 of named) expect(await blobs.stat(sha256), sha256).toBeDefined();
      await new GarbageCollector(store, blobs).collect({ graceMs: 0 });
      for (const sha256 of named) expect(await blobs.stat(sha256), sha256).toBeDefined();
    }

    /** A failed write is the 503 (the bytes went meanwhile) or the naming check's 400 (they were gone before). */
    function expectRefused(error: unknown): void {
      expect(error).toBeInstanceOf(LarderError);
      expect(['Unavailable', 'BadRequest']).toContain((error as LarderError).name);
    }

    /** The service on stores where a whole collection runs before call number `at`. */
    function collectingAt(store: DocumentStore, blobs: BlobStore, at: number): DocumentService {
      const collector = new GarbageCollector(store, blobs);
      const calls = { calls: 0 };
      const collectAt = async (step: number) => {
        if (step === at) await collector.collect({ graceMs: HOUR / 2 });
      };
      return service(stepped(store, calls, collectAt), stepped(blobs, calls, collectAt));
    }

    /** Calls an undisturbed write makes on the stores. */
    async function callsOf(
      store: DocumentStore,
      blobs: BlobStore,
      write: (things: DocumentService) => Promise<unknown>,
    ) {
      const counted = { calls: 0 };
      const quiet = async () => {};
      await write(service(stepped(store, counted, quiet), stepped(blobs, counted, quiet)));
      return counted.calls;
    }

    it('a collection at any step of a create never leaves a record naming a deleted blob', async () => {
      const { store, blobs } = await open();
      const create = async (things: DocumentService, file: object, id: string) =>
        things.create({ _id: id, file }, params);
      const steps = await callsOf(store, blobs, async (things) => create(things, await oldBlob(store, blobs), 'quiet'));
      expect(steps).toBeGreaterThan(4);
      const made: number[] = [];
      const refused: number[] = [];
      for (let at = 0; at <= steps; at += 1) {
        const file = await oldBlob(store, blobs);
        const things = collectingAt(store, blobs, at);
        try {
          await create(things, file, `at-${at}`);
          made.push(at);
        } catch (error) {
          expectRefused(error);
          expect(await store.count(THINGS, eq(['_id'], `at-${at}`))).toBe(0);
          refused.push(at);
        }
        await expectRecordsHold(store, blobs);
      }
      // A collection before the reference takes the bytes; one after it keeps them.
      expect(refused.length).toBeGreaterThan(0);
      expect(made.length).toBeGreaterThan(0);
      expect(Math.max(...refused)).toBeLessThan(Math.min(...made));
    });

    it('a collection at any step of a patch of many records never leaves one naming a deleted blob', async () => {
      const { store, blobs } = await open();
      const patch = (things: DocumentService, file: object, group: string) =>
        things.patch(null, { file }, { ...params, query: { group } });
      const seed = async (group: string) => {
        await service(store, blobs).create(
          [0, 1, 2].map((n) => ({ _id: `${group}-${n}`, group })),
          params,
        );
      };
      await seed('quiet');
      const steps = await callsOf(store, blobs, async (things) => patch(things, await oldBlob(store, blobs), 'quiet'));
      expect(steps).toBeGreaterThan(4);
      let made = 0;
      let refusedCount = 0;
      for (let at = 0; at <= steps; at += 1) {
        const group = `at-${at}`;
        await seed(group);
        const file = await oldBlob(store, blobs);
        const things = collectingAt(store, blobs, at);
        try {
          expect(await patch(things, file, group)).toHaveLength(3);
          made += 1;
        } catch (error) {
          expectRefused(error);
          const named = await store.find(THINGS, { filter: eq(['group'], group) });
          expect(named.filter((record: StoredDocument) => record.file !== undefined)).toHaveLength(0);
          refusedCount += 1;
        }
        await expectRecordsHold(store, blobs);
      }
      expect(refusedCount).toBeGreaterThan(0);
      expect(made).toBeGreaterThan(0);
      // Each record holds the blob by its own reference; the write's own hold is gone.
      const [first] = await store.find(THINGS, { filter: eq(['_id'], `at-${steps}-0`) });
      const sha256 = String((first?.file as { sha256?: string } | undefined)?.sha256);
      const owners = (await store.find(BLOB_REFS_COLLECTION, { filter: eq(['sha256'], sha256) })).map(
        (row) => row.owner,
      );
      expect(owners.sort()).toEqual([0, 1, 2].map((n) => `${THINGS}/at-${steps}-${n}`));
    });

    it('a failed create withdraws the references it added, and only those', async () => {
      const { store, blobs } = await open();
      const things = service(store, blobs);
      const file = await oldBlob(store, blobs);
      await things.create({ _id: 'first', file }, params);
      // The same id again: the insert conflicts, and the first record's reference stays.
      await expect(things.create({ _id: 'first', file }, params)).rejects.toMatchObject({ name: 'Conflict' });
      expect(await store.count(BLOB_REFS_COLLECTION, eq(['sha256'], file.sha256))).toBe(1);
      await new GarbageCollector(store, blobs).collect({ graceMs: 0 });
      expect(await blobs.stat(file.sha256)).toBeDefined();
      // A conflict on another record of a batch: the batch's new references go.
      const other = await oldBlob(store, blobs);
      await expect(
        things.create(
          [
            { _id: 'second', file: other },
            { _id: 'first', file },
          ],
          params,
        ),
      ).rejects.toMatchObject({ name: 'Conflict' });
      expect(await store.count(BLOB_REFS_COLLECTION, eq(['sha256'], other.sha256))).toBe(0);
      expect(await store.count(BLOB_REFS_COLLECTION, eq(['sha256'], file.sha256))).toBe(1);
    });
  },
);
