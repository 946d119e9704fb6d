/**
 * A batch of puts on the filesystem store: every blob is staged in `tmp/` without its own
 * fsync; `commit` then fsyncs all the temp files at once (the journal joins concurrent
 * syncs into few commits), links them into place, and fsyncs each directory that gained an
 * entry once, however many blobs went into it. Each blob has `put`'s guarantees: nothing is
 * visible before its bytes are checked and on disk, and a failure leaves no temp file.
 */
import { rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { eachAtOnce } from '@larder/protocol';
import type { BlobBatch, BlobInfo, PutOptions, PutResult } from '../blob-store.js';
import { assertBatchOpen } from '../blob-store-batch.js';
import { directoriesToSync, syncDirectory, syncFile } from './durable-files.js';
import { placeBlob, type StagedBlob, stageBlob } from './fs-blob-writes.js';
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

  constructor(private readonly root: string) {}

  async add(source: Readable, options: PutOptions = {}): Promise<BlobInfo> {
    assertBatchOpen(this.ended);
    const staging = stageBlob(this.root, source, options, false);
    this.adds.push(staging);
    const { sha256, size } = await staging;
    return { sha256, size };
  }

  async commit(): Promise<PutResult[]> {
    const staged = await this.end();
    try {
      await eachAtOnce(staged, SYNCS_AT_ONCE, (blob) => syncFile(blob.tempPath));
      const placed = await Promise.all(staged.map((blob) => placeBlob(this.root, blob)));
      const directories = new Set<string>();
      for (const { created, directory, firstCreated } of placed) {
        if (created) for (const each of directoriesToSync(directory, firstCreated)) directories.add(each);
      }
      await eachAtOnce([...directories], SYNCS_AT_ONCE, (directory) => syncDirectory(directory));
      return staged.map(({ sha256, size }, index) => ({ sha256, size, created: placed[index]?.created ?? false }));
    } catch (error) {
      throw toStoreError(error, 'store the batch of uploads');
    } finally {
      await removeTempFiles(staged);
    }
  }

  async abort(): Promise<void> {
    await removeTempFiles(await this.end());
  }

  /** Closes the batch to new adds and answers the blobs staged, once every add has settled. */
  private async end(): Promise<StagedBlob[]> {
    assertBatchOpen(this.ended);
    this.ended = true;
    const settled = await Promise.allSettled(this.adds);
    return settled.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
  }
}

function removeTempFiles(staged: readonly StagedBlob[]): Promise<unknown> {
  return Promise.all(staged.map((blob) => rm(blob.tempPath, { force: true })));
}
