/**
 * A batch of puts on the filesystem store: every blob is staged in `tmp/` without its own
 * fsync, a small one's file left open (within the store's descriptor budget); `commit` then
 * fsyncs all the temp files at once (the journal joins concurrent syncs into few commits),
 * through their open descriptors where kept, links them into place, and fsyncs each
 * directory that gained an entry once, however many blobs went into it. Each blob has
 * `put`'s guarantees: nothing is visible before its bytes are checked and on disk, and a
 * failure leaves no temp file and no descriptor open.
 */
import type { Readable } from 'node:stream';
import { eachAtOnce } from '@larder/protocol';
import type { BlobBatch, BlobInfo, PutOptions, PutResult } from '../blob-store.js';
import { assertBatchOpen } from '../blob-store-batch.js';
import type { DescriptorBudget } from './descriptor-budget.js';
import { directoriesToSync, removeFileIfPresent, syncDirectory } from './durable-files.js';
import type { ShardLevels } from './fs-blob-layout.js';
import { placeBlob, releaseStaged, type StagedBlob, stageBlob, syncStaged } from './fs-blob-writes.js';
import { toStoreError } from './fs-errors.js';

/**
 * Files or directories open for an fsync at once: enough to keep every pool thread and the
 * disk's queue busy, few enough that several large forms at once stay far below the limit
 * of open files.
 */
const SYNCS_AT_ONCE = 64;

export class FsBlobBatch implements BlobBatch {
  private readonly adds: Promise<StagedBlob>[] = [];
  private ended = false;

  /**
   * @param levels the store's shard levels (`fs-blob-layout.ts`)
   * @param made the store's shard directories known to exist, which the commit adds to
   * @param budget the store's descriptors that staged files may keep open until the commit
   */
  constructor(
    private readonly root: string,
    private readonly levels: ShardLevels,
    private readonly made: Set<string>,
    private readonly budget: DescriptorBudget,
  ) {}

  async add(source: Readable, options: PutOptions = {}): Promise<BlobInfo> {
    assertBatchOpen(this.ended);
    const staging = stageBlob(this.root, source, options, false, this.budget);
    this.adds.push(staging);
    const { sha256, size } = await staging;
    return { sha256, size };
  }

  async commit(): Promise<PutResult[]> {
    const staged = await this.end();
    try {
      await eachAtOnce(staged, SYNCS_AT_ONCE, (blob) => syncStaged(blob, this.budget));
      const placed = await Promise.all(staged.map((blob) => placeBlob(this.root, this.levels, blob, this.made)));
      const directories = new Set<string>();
      for (const { created, directory, firstCreated } of placed) {
        if (created) for (const each of directoriesToSync(directory, firstCreated)) directories.add(each);
      }
      await eachAtOnce([...directories], SYNCS_AT_ONCE, (directory) => syncDirectory(directory));
      // Known made only now: a directory whose own entry is not yet durable is synced again.
      for (const { directory } of placed) this.made.add(directory);
      return staged.map(({ sha256, size }, index) => ({ sha256, size, created: placed[index]?.created ?? false }));
    } catch (error) {
      throw toStoreError(error, 'store the batch of uploads');
    } finally {
      await this.removeTempFiles(staged);
    }
  }

  async abort(): Promise<void> {
    await this.removeTempFiles(await this.end());
  }

  /** Closes the batch to new adds and answers the blobs staged, once every add has settled. */
  private async end(): Promise<StagedBlob[]> {
    assertBatchOpen(this.ended);
    this.ended = true;
    const settled = await Promise.allSettled(this.adds);
    return settled.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
  }

  /** Closes the descriptors still open (a failed or aborted batch), then removes the temp files. */
  private removeTempFiles(staged: readonly StagedBlob[]): Promise<unknown> {
    return Promise.all(
      staged.map(async (blob) => {
        try {
          await releaseStaged(blob, this.budget);
        } finally {
          await removeFileIfPresent(blob.tempPath);
        }
      }),
    );
  }
}
