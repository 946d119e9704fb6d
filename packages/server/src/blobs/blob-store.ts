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
 * - A batch (`batch`, through `startBlobBatch`) gives each blob the same guarantees as `put`,
 *   paying for durability once for the whole batch instead of once per blob.
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
  /**
   * Whether `compose` joins parts without writing their bytes again (S3's server-side copy).
   * A folder must copy them: a file uploaded in parts is then written twice, which a client
   * choosing between one stream and parts should know (MLflow's multipart uploads).
   */
  readonly composesWithoutCopying?: boolean;
  /**
   * Optional: a batch of puts made durable together (a form of a thousand small files).
   * Nothing added to it is visible before `commit`. Callers go through `startBlobBatch`,
   * which falls back to one `put` per blob for stores without it.
   */
  batch?(): BlobBatch;
}

/**
 * Many blobs stored as one unit of durability. `add` streams each in and checks it as `put`
 * does (same errors, the source destroyed past `maxBytes`), answering its hash once staged;
 * `commit` waits for every `add` still running and then makes the staged blobs durable and
 * visible; `abort` drops what is staged. Every batch ends in one of the two (temp data stays
 * until then); after it, `add`, `commit` and `abort` reject.
 *
 * @example
 * const batch = startBlobBatch(blobs);
 * const staged = files.map((file) => batch.add(file.stream, { maxBytes }));
 * await Promise.allSettled(staged);
 * const stored = await batch.commit(); // one PutResult per blob staged, in `add` order
 */
export interface BlobBatch {
  /** Streams `source` in; rejects as `put` would, and then that blob alone is left out. */
  add(source: Readable, options?: PutOptions): Promise<BlobInfo>;
  /** Stores every staged blob: answers one PutResult per successful `add`, in `add` order. */
  commit(): Promise<PutResult[]>;
  /** Drops every staged blob that is not yet stored (none, with the fallback of one `put` each). */
  abort(): Promise<void>;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

export function isSha256(value: unknown): value is string {
  return typeof value === 'string' && SHA256_HEX.test(value);
}
