/**
 * When each blob was last uploaded, in `_blob_uploads` (`_id` = hash, `at` = ms since the
 * epoch). A blob uploaded within the grace period is never collected, referenced or not:
 * that is the window a client has between uploading bytes and writing the record that
 * holds them.
 *
 * The collector marks a blob in `_blob_collecting` before its last check and unmarks it
 * after deleting it. A writer that records an upload or a reference and then finds no mark
 * knows the collector will see its write; one that finds a mark waits for the verdict.
 *
 * After each delete, before it unmarks, the collector also writes a new token in
 * `_blob_deletions`. A writer that read the token before storing its bytes and reads the same
 * one after finding no mark knows no collection deleted anything in between, so its bytes are
 * still stored without a stat each (see `lostAmong`).
 */
import { randomUUID } from 'node:crypto';
import { eachAtOnce, eq, LarderError, or } from '@larder/protocol';
import type { DocumentStore } from '../../stores/document-store.js';
import type { BlobStore } from '../blob-store.js';

export const BLOB_UPLOADS_COLLECTION = '_blob_uploads';
export const BLOB_COLLECTING_COLLECTION = '_blob_collecting';
export const BLOB_DELETIONS_COLLECTION = '_blob_deletions';
const LAST_DELETION = eq(['_id'], 'last');

const POLL_MS = 25;
const WAIT_LIMIT_MS = 30_000;

/**
 * The token of the last blob deletion ('' before the first): read it before storing bytes,
 * and hand it to `lostAmong` after recording what holds them.
 */
export async function lastDeletion(store: DocumentStore): Promise<string> {
  const [row] = await store.find(BLOB_DELETIONS_COLLECTION, { filter: LAST_DELETION });
  return typeof row?.token === 'string' ? row.token : '';
}

/**
 * The collector, after deleting a blob and before unmarking it: a new token, never one seen
 * before, so that concurrent collectors need no increment (whichever write lands, it is new).
 */
export async function noteDeletion(store: DocumentStore): Promise<void> {
  const token = randomUUID();
  const changed = await store.modify(BLOB_DELETIONS_COLLECTION, LAST_DELETION, (row) => ({ ...row, token }));
  if (changed.length > 0) return;
  try {
    await store.ensureCollection(BLOB_DELETIONS_COLLECTION);
    await store.insert(BLOB_DELETIONS_COLLECTION, [{ _id: 'last', token }]);
  } catch (error) {
    if (!(error instanceof LarderError && error.name === 'Conflict')) throw error;
    await store.modify(BLOB_DELETIONS_COLLECTION, LAST_DELETION, (row) => ({ ...row, token }));
  }
}

/** Notes that `sha256` was just uploaded (or re-uploaded), keeping it from collection. */
export async function recordUpload(store: DocumentStore, sha256: string, at = Date.now()): Promise<void> {
  const changed = await store.modify(BLOB_UPLOADS_COLLECTION, eq(['_id'], sha256), (row) => ({ ...row, at }));
  if (changed.length > 0) return;
  try {
    await store.ensureCollection(BLOB_UPLOADS_COLLECTION);
    await store.insert(BLOB_UPLOADS_COLLECTION, [{ _id: sha256, sha256, at }]);
  } catch (error) {
    if (!(error instanceof LarderError && error.name === 'Conflict')) throw error;
    await store.modify(BLOB_UPLOADS_COLLECTION, eq(['_id'], sha256), (row) => ({ ...row, at }));
  }
}

/**
 * Resolves once no collector is deciding about `sha256`, answering whether the blob is still
 * stored. Call it after recording an upload or a reference: when it answers true, the blob
 * will stay.
 */
export async function survivesCollection(store: DocumentStore, blobs: BlobStore, sha256: string): Promise<boolean> {
  const deadline = Date.now() + WAIT_LIMIT_MS;
  while ((await store.count(BLOB_COLLECTING_COLLECTION, eq(['_id'], sha256))) > 0) {
    if (Date.now() > deadline) {
      throw new LarderError('Unavailable', 'Garbage collection is holding this blob; try again in a minute');
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return (await blobs.stat(sha256)) !== undefined;
}

/** The error of an upload whose bytes a concurrent collection took: the client sends them again. */
export function collectedWhileUploading(): LarderError {
  return new LarderError(
    'Unavailable',
    'These bytes were garbage-collected while they were being uploaded; upload them again',
  );
}

/** Records an upload and makes sure a concurrent collection did not take the bytes. */
export async function confirmUpload(store: DocumentStore, blobs: BlobStore, sha256: string): Promise<void> {
  await recordUpload(store, sha256);
  if (!(await survivesCollection(store, blobs, sha256))) throw collectedWhileUploading();
}

const UPLOAD_BATCH = 500;

/**
 * `confirmUpload` for many blobs (a form of many files): the uploads recorded and the
 * collector's marks looked up a batch at a time. Answers the hashes a concurrent collection
 * took (to be uploaded again); every other one will stay.
 */
export async function confirmUploads(
  store: DocumentStore,
  blobs: BlobStore,
  hashes: Iterable<string>,
): Promise<Set<string>> {
  const wanted = [...new Set(hashes)];
  const lost = new Set<string>();
  await store.ensureCollection(BLOB_UPLOADS_COLLECTION);
  for (let start = 0; start < wanted.length; start += UPLOAD_BATCH) {
    const slice = wanted.slice(start, start + UPLOAD_BATCH);
    const filter = or(...slice.map((sha256) => eq(['_id'], sha256)));
    const at = Date.now();
    const changed = await store.modify(BLOB_UPLOADS_COLLECTION, filter, (row) => ({ ...row, at }));
    const present = new Set(changed.map(({ after }) => after._id));
    const rows = slice.filter((sha256) => !present.has(sha256)).map((sha256) => ({ _id: sha256, sha256, at }));
    try {
      if (rows.length > 0) await store.insert(BLOB_UPLOADS_COLLECTION, rows);
    } catch (error) {
      if (!(error instanceof LarderError && error.name === 'Conflict')) throw error;
      for (const row of rows) await recordUpload(store, row.sha256, at);
    }
    for (const sha256 of await lostAmong(store, blobs, slice)) lost.add(sha256);
  }
  return lost;
}

const STATS_AT_ONCE = 16;

/**
 * Of `hashes`, whose upload or reference the caller has just recorded, those a concurrent
 * collection took: the collector's marks looked up together, then each blob stat'ed, or,
 * when a collector is deciding about it, its verdict waited for. Every other one will stay.
 *
 * `deletionBefore`: the `lastDeletion` token read before these bytes were stored. When it is
 * still the last one after the marks were read, the unmarked blobs need no stat. A collection
 * that deleted one after it was stored and before its holder was recorded had marked it before
 * the holder was recorded: the marks read then either show it (its verdict is waited for) or
 * were read after its unmark, which follows its new token.
 */
export async function lostAmong(
  store: DocumentStore,
  blobs: BlobStore,
  hashes: readonly string[],
  deletionBefore?: string,
): Promise<Set<string>> {
  const lost = new Set<string>();
  for (let start = 0; start < hashes.length; start += UPLOAD_BATCH) {
    const slice = hashes.slice(start, start + UPLOAD_BATCH);
    const filter = or(...slice.map((sha256) => eq(['_id'], sha256)));
    const marked = new Set((await store.find(BLOB_COLLECTING_COLLECTION, { filter })).map((mark) => mark._id));
    // Read after the marks: the order the argument above needs.
    const noneDeleted = deletionBefore !== undefined && (await lastDeletion(store)) === deletionBefore;
    // A blob a collector is deciding about waits for its verdict; any other one was either
    // seen by the collector or, if collected just before, is no longer stored.
    await eachAtOnce(slice, STATS_AT_ONCE, async (sha256) => {
      let stays: boolean;
      if (marked.has(sha256)) stays = await survivesCollection(store, blobs, sha256);
      else stays = noneDeleted || (await blobs.stat(sha256)) !== undefined;
      if (!stays) lost.add(sha256);
    });
  }
  return lost;
}
