/**
 * One blob made of several stored blobs, one after the other: how chunked uploads become a
 * single blob. `composeBlobs` lets the store do it its cheapest way (`BlobStore.compose`:
 * nothing to write for a single part, a server-side copy on S3); otherwise the parts are
 * streamed, one at a time so memory stays flat, through `put`.
 */
import { Readable } from 'node:stream';
import { LarderError } from '@larder/protocol';
import type { BlobStore, PutOptions, PutResult } from './blob-store.js';

export function concatenatedBlobs(blobs: BlobStore, parts: readonly string[]): Readable {
  async function* chunks() {
    for (const part of parts) {
      for await (const chunk of await blobs.get(part)) yield chunk as Buffer;
    }
  }
  return Readable.from(chunks(), { objectMode: false });
}

/** Stores the concatenation of `parts` with the same checks and answer as `put`. */
export function composeBlobs(blobs: BlobStore, parts: readonly string[], options: PutOptions = {}): Promise<PutResult> {
  if (blobs.compose) return blobs.compose(parts, options);
  return blobs.put(concatenatedBlobs(blobs, parts), options);
}

/**
 * The answer of a composition of one part, which is that blob itself: nothing to write.
 * `size` is the part's stored size.
 */
export function singlePartResult(part: string, size: number, options: PutOptions): PutResult {
  if (options.maxBytes !== undefined && size > options.maxBytes) {
    throw new LarderError('PayloadTooLarge', `The upload is larger than the limit of ${options.maxBytes} bytes.`, {
      data: { maxBytes: options.maxBytes },
    });
  }
  if (options.expectedSha256 !== undefined && options.expectedSha256 !== part) {
    throw new LarderError(
      'BadRequest',
      `The content hashes to ${part}, not to the expected ${options.expectedSha256}; nothing was stored`,
      { data: { expectedSha256: options.expectedSha256, actualSha256: part } },
    );
  }
  return { sha256: part, size, created: false };
}
