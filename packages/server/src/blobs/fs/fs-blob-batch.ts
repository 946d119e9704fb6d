/**
 * A batch of puts on the filesystem store. A small blob (up to the store's pack size, while the
 * batch holds less than its cap of bytes in memory) is checked and held in memory, and the
 * commit writes all of them into one pack (`fs-blob-packs.ts`): one file, one fsync, one index
 * transaction for a form of a thousand thumbnails. Any other blob is staged in `tmp/` without its own
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
import type { FsBlobPacks } from './fs-blob-packs.js';
import {
  type HeldBlob,
  placeBlob,
  releaseStaged,
  type StagedBlob,
  stageOrHoldBlob,
  syncStaged,
} from './fs-blob-writes.js';
import { toStoreError } from './fs-errors.js';

/** How a batch packs its small blobs (see `FsBlobStoreOptions`). */
export interface BatchPacking {
  packs: FsBlobPacks;
  /** Blobs up to this many bytes are held for the pack (0: none). */
  blobsUpTo: number;
  /** The most bytes one batch holds in memory for its pack; later small blobs are staged as files. */
  bytesPerBatch: number;
  /** The bytes all the store's batches together may hold in memory until their commit. */
  heldBudget: HeldBytesBudget;
  /** Whether a blob is already stored as a file. */
  isLoose: (sha256: string) => Promise<boolean>;
}

/**
 * Files or directories open for an fsync at once: enough to keep every pool thread and the
 * disk's queue busy, few enough that several large forms at once stay far below the limit
 * of open files.
 */
const SYNCS_AT_ONCE = 64;

export class FsBlobBatch implements BlobBatch {
  private readonly adds: Promise<StagedBlob | HeldBlob>[] = [];
  private ended = false;
  private heldBytes = 0;

  /**
   * @param levels the store's shard levels (`fs-blob-layout.ts`)
   * @param made the store's shard directories known to exist, which the commit adds to
   * @param budget the store's descriptors that staged files may keep open until the commit
   * @param packing where and up to what size small blobs are packed
   */
  constructor(
    private readonly root: string,
    private readonly levels: ShardLevels,
    private readonly made: Set<string>,
    private readonly budget: DescriptorBudget,
    private readonly packing: BatchPacking,
  ) {}

  async add(source: Readable, options: PutOptions = {}): Promise<BlobInfo> {
    assertBatchOpen(this.ended);
    const staging = stageOrHoldBlob(this.root, source, options, false, this.budget, this.hold);
    this.adds.push(staging);
    const { sha256, size } = await staging;
    return { sha256, size };
  }

  /** Takes a checked small body for the pack while the batch's cap allows. */
  private readonly hold = (size: number): boolean => {
    const { blobsUpTo, bytesPerBatch, heldBudget } = this.packing;
    if (size > blobsUpTo || this.heldBytes + size > bytesPerBatch || !heldBudget.reserve(size)) return false;
    this.heldBytes += size;
    return true;
  };

  /** The batch's held bytes go back to the store's budget (once committed or aborted). */
  private releaseHeld(): void {
    this.packing.heldBudget.release(this.heldBytes);
    this.heldBytes = 0;
  }

  async commit(): Promise<PutResult[]> {
    const all = await this.end();
    const staged = all.filter(isStaged);
    const held = all.filter((blob): blob is HeldBlob => !isStaged(blob));
    try {
      const [placed, packed] = await Promise.all([this.place(staged), this.pack(held, staged)]);
      const created = new Map<StagedBlob | HeldBlob, boolean>();
      for (const [at, blob] of staged.entries()) created.set(blob, placed[at] ?? false);
      for (const [at, blob] of held.entries()) created.set(blob, packed[at] ?? false);
      return all.map((blob) => ({ sha256: blob.sha256, size: blob.size, created: created.get(blob) ?? false }));
    } catch (error) {
      throw toStoreError(error, 'store the batch of uploads');
    } finally {
      this.releaseHeld();
      await this.removeTempFiles(staged);
    }
  }

  /** Packs the held blobs; one also staged as a file (past the cap) is placed as that file instead. */
  private async pack(held: readonly HeldBlob[], staged: readonly StagedBlob[]): Promise<boolean[]> {
    if (held.length === 0) return [];
    const asFiles = new Set(staged.map(({ sha256 }) => sha256));
    const packable = held.filter(({ sha256 }) => !asFiles.has(sha256));
    const created = await this.packing.packs.store(packable, this.packing.isLoose);
    const answers = new Map<HeldBlob, boolean>();
    for (const [at, blob] of packable.entries()) answers.set(blob, created[at] ?? false);
    return held.map((blob) => answers.get(blob) ?? false);
  }

  /**
   * Syncs the staged files, links them under their hashes and syncs their directories; one
   * already packed (by an earlier batch) is not placed again.
   */
  private async place(all: readonly StagedBlob[]): Promise<boolean[]> {
    const staged = all.filter(({ sha256 }) => this.packing.packs.find(sha256) === undefined);
    // Those found packed are answered once the rows naming them are durable.
    if (staged.length < all.length) await this.packing.packs.durableNow();
    if (staged.length === 0) return all.map(() => false);
    await eachAtOnce(staged, SYNCS_AT_ONCE, (blob) => syncStaged(blob, this.budget));
    const placed = await Promise.all(staged.map((blob) => placeBlob(this.root, this.levels, blob, this.made)));
    const directories = new Set<string>();
    for (const { created, directory, firstCreated } of placed) {
      if (created) for (const each of directoriesToSync(directory, firstCreated)) directories.add(each);
    }
    await eachAtOnce([...directories], SYNCS_AT_ONCE, (directory) => syncDirectory(directory));
    // Known made only now: a directory whose own entry is not yet durable is synced again.
    for (const { directory } of placed) this.made.add(directory);
    const created = new Map(staged.map((blob, at) => [blob, placed[at]?.created ?? false]));
    return all.map((blob) => created.get(blob) ?? false);
  }

  async abort(): Promise<void> {
    const all = await this.end();
    this.releaseHeld();
    await this.removeTempFiles(all.filter(isStaged));
  }

  /** Closes the batch to new adds and answers the blobs staged or held, once every add has settled. */
  private async end(): Promise<(StagedBlob | HeldBlob)[]> {
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

function isStaged(blob: StagedBlob | HeldBlob): blob is StagedBlob {
  return 'tempPath' in blob;
}

/**
 * The bytes of small blobs a store's batches hold in memory together, waiting for their
 * commits: past it, a batch stages its small blobs as files, as it does larger ones, so that
 * many forms at once cannot make the server hold more than this.
 */
export class HeldBytesBudget {
  private held = 0;

  constructor(private readonly limit: number) {}

  /** Takes `bytes` of the budget; false when they do not fit (stage the blob as a file instead). */
  reserve(bytes: number): boolean {
    if (this.held + bytes > this.limit) return false;
    this.held += bytes;
    return true;
  }

  /** Gives back bytes `reserve` took. */
  release(bytes: number): void {
    this.held = Math.max(0, this.held - bytes);
  }
}
