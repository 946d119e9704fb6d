/**
 * A record may name only blobs its writer could read (`assertHeldBlobs` on the server), so
 * copying files out of someone else's record (a shared experiment, a registry model) first
 * proves we hold the bytes: download them through the route that lets us read them, then
 * upload them, which grants our claim. Blobs we hold already cost one HEAD.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BlobRef } from '../blobs/blob-client.js';
import type { DataStore } from '../datastore/data-store.js';

export async function holdBlob(store: DataStore, blob: BlobRef, route: string): Promise<void> {
  if (await store.blobs.has(blob.sha256)) return;
  const directory = await mkdtemp(join(tmpdir(), 'larder-experiment-'));
  try {
    const path = join(directory, 'blob');
    await store.blobs.downloadRoute(route, path, { sha256: blob.sha256 });
    await store.blobs.upload(path);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}
