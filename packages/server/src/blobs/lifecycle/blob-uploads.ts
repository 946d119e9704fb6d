/**
 * When each blob was last uploaded, in `_blob_uploads` (`_id` = hash, `at` = ms since the
 * epoch). A blob uploaded within the grace period is never collected, referenced or not:
 * that is the window a client has between uploading bytes and writing the record that
 * holds them.
 *
 * The collector marks a blob in `_blob_collecting` before its last check and unmarks it
 * after deleting it. A writer that records an upload or a reference and then finds no mark
 * knows the collector will see its write; one that finds a mark waits for the verdict.
 */
import { eq, LarderError } from '@larder/protocol';
import type { DocumentStore } from '../../stores/document-store.js';
import type { BlobStore } from '../blob-store.js';

export const BLOB_UPLOADS_COLLECTION = '_blob_uploads';
export const BLOB_COLLECTING_COLLECTION = '_blob_collecting';

const POLL_MS = 25;
const WAIT_LIMIT_MS = 30_000;

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

/** Records an upload and makes sure a concurrent collection did not take the bytes. */
export async function confirmUpload(store: DocumentStore, blobs: BlobStore, sha256: string): Promise<void> {
  await recordUpload(store, sha256);
  if (!(await survivesCollection(store, blobs, sha256))) {
    throw new LarderError(
      'Unavailable',
      'These bytes were garbage-collected while they were being uploaded; upload them again',
    );
  }
}
