/**
 * Batches of puts for any blob store: `startBlobBatch` answers the store's own batch (the
 * filesystem's, durable in one pass) or, for stores without one (S3, whose objects are
 * durable as each upload completes), a batch that puts every blob as it is added, in
 * parallel, and only collects the answers at `commit`.
 */
import type { Readable } from 'node:stream';
import type { BlobBatch, BlobInfo, BlobStore, PutOptions, PutResult } from './blob-store.js';

/**
 * A batch on `blobs`: its own when it has one, else one `put` per `add`.
 *
 * @example
 * const batch = startBlobBatch(blobs);
 * void batch.add(Readable.from([bytes])).catch(() => {});
 * const [stored] = await batch.commit();
 */
export function startBlobBatch(blobs: BlobStore): BlobBatch {
  return blobs.batch ? blobs.batch() : new PutEachBatch(blobs);
}

/** The blob batch contract checked once for every implementation: no `add` after the end. */
export function assertBatchOpen(ended: boolean): void {
  if (ended) throw new Error('This blob batch was already committed or aborted; start a new one.');
}

class PutEachBatch implements BlobBatch {
  private readonly puts: Promise<PutResult>[] = [];
  private ended = false;

  constructor(private readonly blobs: BlobStore) {}

  async add(source: Readable, options?: PutOptions): Promise<BlobInfo> {
    assertBatchOpen(this.ended);
    const put = this.blobs.put(source, options);
    this.puts.push(put);
    const { sha256, size } = await put;
    return { sha256, size };
  }

  async commit(): Promise<PutResult[]> {
    assertBatchOpen(this.ended);
    this.ended = true;
    const settled = await Promise.allSettled(this.puts);
    return settled.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
  }

  async abort(): Promise<void> {
    assertBatchOpen(this.ended);
    this.ended = true;
    // Blobs already put stay, as any upload whose record never came: collection takes them.
    await Promise.allSettled(this.puts);
  }
}
