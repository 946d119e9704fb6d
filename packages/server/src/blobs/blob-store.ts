/**
 * The blob store port: immutable bytes stored once under the SHA-256 of their content.
 * Adapters (filesystem here, S3 later) all pass `blob-store.conformance.ts` unchanged.
 *
 * Guarantees every adapter gives:
 * - `put` streams: memory stays flat whatever the size; the hash is computed while the
 *   bytes flow, and the blob becomes visible under its hash only once complete and verified
 *   (a broken or killed upload leaves nothing visible, and removes its temporary data).
 * - Storing bytes that are already present costs no extra space and answers the same hash.
 * - `get` streams, optionally a byte range.
 */
import type { Readable } from 'node:stream';

export interface BlobInfo {
  /** Lower-case hex SHA-256 of the content. */
  sha256: string;
  size: number;
}

export interface PutOptions {
  /** When given, the upload fails (and stores nothing) unless the content hashes to it. */
  expectedSha256?: string;
  /** When given, the upload fails (and stores nothing) if it grows past this many bytes. */
  maxBytes?: number;
}

export interface PutResult extends BlobInfo {
  /** False when the blob was already stored. */
  created: boolean;
}

/** Inclusive byte range, as in an HTTP `Range` header. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface BlobStore {
  readonly kind: string;
  open(): Promise<void>;
  close(): Promise<void>;
  /** Streams `source` in. Rejects with a LarderError (BadRequest on hash mismatch, PayloadTooLarge past maxBytes). */
  put(source: Readable, options?: PutOptions): Promise<PutResult>;
  /** Size of a stored blob, or undefined. */
  stat(sha256: string): Promise<BlobInfo | undefined>;
  /** Streams a stored blob (or a range of it); rejects with NotFound when absent. */
  get(sha256: string, range?: ByteRange): Promise<Readable>;
  /** Deletes a blob; answers whether it existed. */
  delete(sha256: string): Promise<boolean>;
  /** Every stored hash (for garbage collection and integrity checks). */
  list(): AsyncIterable<string>;
  /**
   * Optional: stores the concatenation of stored blobs `parts`, in order, as `put` of that
   * stream would (same checks, same answer), but cheaper where the store can: without
   * moving the bytes through the server again. Callers go through `composeBlobs`, which
   * falls back to `put` for stores without it.
   */
  compose?(parts: readonly string[], options?: PutOptions): Promise<PutResult>;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

export function isSha256(value: unknown): value is string {
  return typeof value === 'string' && SHA256_HEX.test(value);
}
