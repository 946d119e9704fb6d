/**
 * One stream of several stored blobs, one after the other: how chunked uploads become a
 * single blob. Parts are opened one at a time, so memory stays flat.
 */
import { Readable } from 'node:stream';
import type { BlobStore } from './blob-store.js';

export function concatenatedBlobs(blobs: BlobStore, parts: readonly string[]): Readable {
  async function* chunks() {
    for (const part of parts) {
      for await (const chunk of await blobs.get(part)) yield chunk as Buffer;
    }
  }
  return Readable.from(chunks(), { objectMode: false });
}
