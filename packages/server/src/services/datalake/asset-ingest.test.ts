/**
 * A form's files become assets without an upload row: each new asset holds its bytes by its
 * reference, added before the blob is checked. These tests put a whole garbage collection at
 * every step of an ingest, and an ingest at every step of a collection, on SQLite and on
 * PostgreSQL: whatever the interleaving, no asset names a deleted blob, and a file that is
 * not made an asset keeps its grace period as any upload does. The collections keep an hour
 * of grace, as a server's do: a reference younger than the grace period is never taken for
 * one a crashed writer left (with none, any writer's reference could be, with or without an
 * upload row).
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { eq } from '@larder/protocol';
import { describe, expect, it } from 'vitest';
import { ownershipPolicy } from '../../auth/access-policy.js';
import type { Actor } from '../../auth/actor.js';
import type { BlobStore } from '../../blobs/blob-store.js';
import { blobMentionsIn } from '../../blobs/lifecycle/blob-hashes-in-document.js';
import { BLOB_REFS_COLLECTION } from '../../blobs/lifecycle/blob-references.js';
import {
  BLOB_COLLECTING_COLLECTION,
  BLOB_UPLOADS_COLLECTION,
  lastDeletion,
} from '../../blobs/lifecycle/blob-uploads.js';
import { GarbageCollector } from '../../blobs/lifecycle/garbage-collector.js';
import { held, stepped } from '../../blobs/test-support/stepped-calls.js';
import { openEachTest, storeAndBlobSetups } from '../../blobs/test-support/store-and-blobs.js';
import type { DocumentStore, StoredDocument } from '../../stores/document-store.js';
import { RecordBlobReferences } from '../documents/record-blob-references.js';
import { pictureAssetId } from './asset-ids.js';
import { type IngestFile, type IngestOutcome, ingestFiles } from './asset-ingest.js';
import { ASSETS } from './datalake-collections.js';

const actor: Actor = { kind: 'local-owner' };
const HOUR = 3_600_000;

describe.each(storeAndBlobSetups('ingest', 'folder'))(
  'a form ingested while blobs are collected, on %s',
  (_name, make) => {
    const open = openEachTest(make);

    /** The ingest as the upload route runs it, on `store` and `blobs` (maybe stepped); its create adds references as the service's does. */
    function ingest(store: DocumentStore, blobs: BlobStore, files: IngestFile[]): Promise<IngestOutcome[]> {
      const references = new RecordBlobReferences(store, ASSETS, blobMentionsIn);
      return ingestFiles(
        {
          store,
          blobs,
          policy: ownershipPolicy,
          insert: async (records) => {
            const stored = records as StoredDocument[];
            await store.ensureCollection(ASSETS);
            const added = await references.beforeWrite(stored.map((record) => ({ id: record._id, data: record })));
            try {
              await store.insert(ASSETS, stored);
            } catch (error) {
              await references.undo(added);
              throw error;
            }
            return stored;
          },
          shown: (record) => record,
          namedBy: blobMentionsIn,
        },
        actor,
        files,
      );
    }

    /**
     * Bytes stored as a form stores them: linked, claimed by nobody yet, with no upload row;
     * with `token`, the last deletion's token read first, as the form reads it.
     */
    async function storedFile(blobs: BlobStore, name: string, token?: DocumentStore): Promise<IngestFile> {
      const deletionBefore = token ? await lastDeletion(token) : undefined;
      const bytes = Buffer.from(`${name} ${randomBytes(16).toString('hex')}\n`);
      const { sha256, size } = await blobs.put(Readable.from([bytes]));
      return {
        sha256,
        filename: name,
        head: bytes,
        uploadedSize: size,
        uploadUnrecorded: true,
        ...(deletionBefore === undefined ? {} : { deletionBefore }),
      };
    }

    /** Every asset names a stored blob, and a collection now (grace zero) takes none of them. */
    async function expectAssetsHold(store: DocumentStore, blobs: BlobStore): Promise<void> {
      const assets = await store.find(ASSETS, { filter: { op: 'all' } });
      for (const asset of assets) expect(await blobs.stat(String(asset.sha256)), String(asset._id)).toBeDefined();
      await new GarbageCollector(store, blobs).collect({ graceMs: 0 });
      for (const asset of assets) expect(await blobs.stat(String(asset.sha256)), String(asset._id)).toBeDefined();
    }

    /** The outcome is an asset, or the 503 that asks for the bytes again and no asset. */
    async function expectMadeOrLost(store: DocumentStore, file: IngestFile, outcome: IngestOutcome): Promise<boolean> {
      const id = pictureAssetId(actor, String(file.sha256));
      if (outcome.asset) {
        expect(outcome.asset._id).toBe(id);
        expect(await store.count(ASSETS, eq(['_id'], id))).toBe(1);
        return true;
      }
      expect(outcome.error?.name).toBe('Unavailable');
      expect(await store.count(ASSETS, eq(['_id'], id))).toBe(0);
      return false;
    }

    // With the deletion token read before the bytes are stored, unmarked blobs are not stat'ed.
    for (const withToken of [false, true]) {
      const mode = withToken ? ', the stats skipped by the deletion token' : '';
      const tokenOf = (store: DocumentStore) => (withToken ? store : undefined);
      it(`a collection at any step of the ingest never leaves an asset naming a deleted blob${mode}`, async () => {
        const { store, blobs } = await open();
        const token = tokenOf(store);
        // How many calls an undisturbed ingest makes on the store and the blobs.
        const counted = { calls: 0 };
        const quiet = async () => {};
        let stats = 0;
        const counting = new Proxy(blobs, {
          get(object, key) {
            if (key === 'stat') stats += 1;
            return Reflect.get(object, key, object);
          },
        });
        const [first] = await ingest(stepped(store, counted, quiet), stepped(counting, counted, quiet), [
          await storedFile(blobs, 'quiet.txt', token),
        ]);
        expect(first?.asset).toBeDefined();
        // No collection deleted anything meanwhile: with the token, the blob is not looked up.
        expect(stats).toBe(withToken ? 0 : 1);
        expect(counted.calls).toBeGreaterThan(4);

        const made: number[] = [];
        const lost: number[] = [];
        for (let at = 0; at <= counted.calls; at += 1) {
          const file = await storedFile(blobs, `at-${at}.txt`, token);
          const collector = new GarbageCollector(store, blobs);
          const calls = { calls: 0 };
          const collectAt = async (step: number) => {
            if (step === at) await collector.collect({ graceMs: HOUR });
          };
          const [outcome] = await ingest(stepped(store, calls, collectAt), stepped(blobs, calls, collectAt), [file]);
          (await expectMadeOrLost(store, file, outcome as IngestOutcome)) ? made.push(at) : lost.push(at);
          await expectAssetsHold(store, blobs);
        }
        // A collection before the reference takes the bytes (the file fails alone); one after it keeps them.
        expect(lost.length).toBeGreaterThan(0);
        expect(made.length).toBeGreaterThan(0);
        expect(Math.max(...lost)).toBeLessThan(Math.min(...made));
      });

      it(`an ingest at any step of a collection never leaves an asset naming a deleted blob${mode}`, async () => {
        const { store, blobs } = await open();
        const token = tokenOf(store);
        const counted = { calls: 0 };
        const quiet = async () => {};
        await new GarbageCollector(stepped(store, counted, quiet), stepped(blobs, counted, quiet)).collect({
          graceMs: HOUR,
        });
        const steps = counted.calls + 12; // the sweep of one candidate makes more calls than an empty collection

        let made = 0;
        for (let at = 0; at <= steps; at += 1) {
          const file = await storedFile(blobs, `at-${at}.txt`, token);
          let ingesting: Promise<IngestOutcome[]> | undefined;
          // The ingest runs while the collection is held at step `at`; the collection goes on once
          // the ingest is done or waits for the collector's verdict (it polls the collector's marks).
          let resume: () => void = () => {};
          const waiting = new Promise<void>((resolve) => {
            resume = resolve;
          });
          const ingestStore = new Proxy(store, {
            get(object, key) {
              const value = Reflect.get(object, key, object);
              if (key !== 'count' || typeof value !== 'function')
                return typeof value === 'function' ? value.bind(object) : value;
              return (collection: string, ...rest: unknown[]) => {
                if (collection === BLOB_COLLECTING_COLLECTION) resume();
                return value.apply(object, [collection, ...rest]);
              };
            },
          });
          const calls = { calls: 0 };
          const ingestAt = async (step: number) => {
            if (step !== at) return;
            ingesting = ingest(ingestStore, blobs, [file]);
            ingesting.then(resume, resume);
            await waiting;
          };
          await new GarbageCollector(stepped(store, calls, ingestAt), stepped(blobs, calls, ingestAt)).collect({
            graceMs: HOUR,
          });
          const [outcome] = await (ingesting ?? ingest(store, blobs, [file]));
          if (await expectMadeOrLost(store, file, outcome as IngestOutcome)) made += 1;
          await expectAssetsHold(store, blobs);
        }
        expect(made).toBeGreaterThan(0);
      });

      it(`a collection split around any step of the ingest never leaves an asset naming a deleted blob${mode}`, async () => {
        const { store, blobs } = await open();
        const token = tokenOf(store);
        // Calls of an undisturbed ingest, and of a collection that deletes one blob.
        const ingestCalls = { calls: 0 };
        const quiet = async () => {};
        await ingest(stepped(store, ingestCalls, quiet), stepped(blobs, ingestCalls, quiet), [
          await storedFile(blobs, 'quiet.txt', token),
        ]);
        await storedFile(blobs, 'garbage.txt');
        const collectorCalls = { calls: 0 };
        const report = await new GarbageCollector(
          stepped(store, collectorCalls, quiet),
          stepped(blobs, collectorCalls, quiet),
        ).collect({ graceMs: HOUR });
        expect(report.deleted).toBe(1);

        // The collection runs to its step `c`, the ingest to its step `i` (or until it waits for
        // the collector's verdict), the collection to its end, and the ingest to its end.
        for (let c = 0; c <= collectorCalls.calls; c += 1) {
          for (let i = 0; i <= ingestCalls.calls; i += 1) {
            const file = await storedFile(blobs, `c${c}-i${i}.txt`, token);
            const collectorHeld = held();
            const ingestHeld = held();
            const collecting = new GarbageCollector(
              stepped(store, collectorHeld.counter, (step) => (step === c ? collectorHeld.hold() : Promise.resolve())),
              stepped(blobs, collectorHeld.counter, (step) => (step === c ? collectorHeld.hold() : Promise.resolve())),
            ).collect({ graceMs: HOUR });
            void collecting.then(collectorHeld.reached, collectorHeld.reached);
            await collectorHeld.whenReached;
            const waitsForVerdict = (collection: string) => {
              if (collection === BLOB_COLLECTING_COLLECTION) ingestHeld.reached();
            };
            const ingesting = ingest(
              stepped(store, ingestHeld.counter, (step, key, args) => {
                if (key === 'count') waitsForVerdict(String(args[0]));
                return step === i ? ingestHeld.hold() : Promise.resolve();
              }),
              stepped(blobs, ingestHeld.counter, (step) => (step === i ? ingestHeld.hold() : Promise.resolve())),
              [file],
            );
            void ingesting.then(ingestHeld.reached, ingestHeld.reached);
            await ingestHeld.whenReached;
            collectorHeld.release();
            await collecting;
            ingestHeld.release();
            const [outcome] = await ingesting;
            await expectMadeOrLost(store, file, outcome as IngestOutcome);
            await expectAssetsHold(store, blobs);
          }
        }
      });
    }

    it('a file the ingest does not make a new asset keeps the grace period of an upload', async () => {
      const { store, blobs } = await open();
      const merged = await storedFile(blobs, 'merged.txt');
      expect((await ingest(store, blobs, [{ ...merged, uploadUnrecorded: false }]))[0]?.asset).toBeDefined();
      const again = await storedFile(blobs, 'again.txt');
      const otherSha = createHash('sha256').update(randomBytes(64)).digest('hex');
      // Names a blob that is not stored: the naming check refuses it alone.
      const refused = { ...(await storedFile(blobs, 'refused.txt')), extra: { cover: { sha256: otherSha } } };
      const kept = await storedFile(blobs, 'kept.txt');
      const outcomes = await ingest(store, blobs, [{ ...merged, filename: 'merged-again.txt' }, again, refused, kept]);
      expect(outcomes.map((outcome) => outcome.error?.name ?? 'asset')).toEqual([
        'asset',
        'asset',
        'BadRequest',
        'asset',
      ]);
      // The merged and the refused file got an upload row; the new assets hold theirs by reference only.
      const uploads = async (file: IngestFile) =>
        store.count(BLOB_UPLOADS_COLLECTION, eq(['_id'], String(file.sha256)));
      expect(await uploads(merged)).toBe(1);
      expect(await uploads(refused)).toBe(1);
      expect(await uploads(again)).toBe(0);
      expect(await uploads(kept)).toBe(0);
      expect(await store.count(BLOB_REFS_COLLECTION, eq(['sha256'], String(kept.sha256)))).toBe(1);
      const collector = new GarbageCollector(store, blobs);
      await collector.collect({ graceMs: 3_600_000 });
      expect(await blobs.stat(String(refused.sha256))).toBeDefined();
      // Its reference, left by the ingest, is young: no collection drops a reference that may
      // belong to a write under way, whatever the grace period.
      await collector.collect({ graceMs: 0 });
      expect(await blobs.stat(String(refused.sha256))).toBeDefined();
      // An hour later, no record holds it: the reference and then the blob go.
      const refusedRefs = eq(['sha256'], String(refused.sha256));
      await store.modify(BLOB_REFS_COLLECTION, refusedRefs, (row) => ({ ...row, at: Date.now() - 3_600_000 }));
      await collector.collect({ graceMs: 0 });
      expect(await blobs.stat(String(refused.sha256))).toBeUndefined();
      for (const file of [merged, again, kept]) expect(await blobs.stat(String(file.sha256))).toBeDefined();
    });
  },
);
