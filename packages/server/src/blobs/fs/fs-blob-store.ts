/**
 * The default blob store: content-addressed files under one root directory
 * (`<root>/sha256/ab/<hash>`; `sha256/ab/cd/<hash>` in stores made before 3 December 2026). An upload streams into `<root>/tmp/`, is hashed, checked
 * and fsynced on the way, and only then linked into place: a reader never sees a partial
 * blob, and a crash leaves at most a temp file, which the next `open()` removes.
 */
import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, rm, stat, unlink } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { LarderError } from '@larder/protocol';
import type { BlobBatch, BlobInfo, BlobStore, ByteRange, PutOptions, PutResult } from '../blob-store.js';
import { concatenatedBlobs, singlePartResult } from '../concatenated-blobs.js';
import { DescriptorBudget, defaultKeptOpenFiles } from './descriptor-budget.js';
import { removeFileIfPresent, syncDirectories } from './durable-files.js';
import { FsBlobBatch } from './fs-blob-batch.js';
import {
  blobPath,
  blobsDirectory,
  listBlobHashes,
  openShardLevels,
  type ShardLevels,
  tempDirectory,
} from './fs-blob-layout.js';
import { placeBlob, stageBlob } from './fs-blob-writes.js';
import { errorCode, toStoreError } from './fs-errors.js';

export interface FsBlobStoreOptions {
  /**
   * Directory holding the store, created by `open()`. One running store owns a root:
   * `open()` deletes whatever uploads were in progress under it.
   */
  root: string;
  /**
   * How many small staged files batches may keep open until their commit, all together
   * (default 1024, at most a quarter of the process's open-file limit): each saves reopening
   * its file for the sync. Past it, files are closed after their write and opened again for
   * the sync.
   */
  keptOpenFiles?: number;
}

/**
 * Blob store on the local filesystem.
 *
 * @example
 * const blobs = new FsBlobStore({ root: '/var/lib/larder/blobs' });
 * await blobs.open();
 * const { sha256, size } = await blobs.put(request, { maxBytes: 10 * 1024 ** 3 });
 * (await blobs.get(sha256, { start: 0, end: 1023 })).pipe(response);
 */
export class FsBlobStore implements BlobStore {
  readonly kind = 'fs';
  /** Several parts are copied into a new file (see `compose`). */
  readonly composesWithoutCopying = false;
  private readonly root: string;
  private opened = false;
  private levels: ShardLevels = 1;
  /**
   * Shard directories this store made or filled and synced: a blob placed in one needs no
   * `mkdir` (at most 256 of them, 65,536 in a store of two levels).
   */
  private readonly shardDirectories = new Set<string>();
  private readonly keptOpen: DescriptorBudget;

  constructor(options: FsBlobStoreOptions) {
    this.root = options.root;
    this.keptOpen = new DescriptorBudget(options.keptOpenFiles ?? defaultKeptOpenFiles());
  }

  /** Creates the directories and deletes temp files left by an upload a crash cut short. */
  async open(): Promise<void> {
    if (this.opened) return;
    try {
      await mkdir(blobsDirectory(this.root), { recursive: true });
      await rm(tempDirectory(this.root), { recursive: true, force: true });
      await mkdir(tempDirectory(this.root), { recursive: true });
      this.levels = await openShardLevels(this.root);
    } catch (error) {
      throw toStoreError(error, `open ${this.root}`);
    }
    this.opened = true;
  }

  async close(): Promise<void> {
    this.opened = false;
  }

  /**
   * Streams `source` into a temp file, then moves it into place under its hash. On any
   * failure the temp file is removed and nothing is stored; past `maxBytes` the source is
   * destroyed. Errors of `source` itself are rethrown as they are.
   */
  async put(source: Readable, options: PutOptions = {}): Promise<PutResult> {
    this.assertOpened('put');
    const staged = await stageBlob(this.root, source, options, true);
    try {
      const { created, directory, firstCreated } = await placeBlob(
        this.root,
        this.levels,
        staged,
        this.shardDirectories,
      );
      if (created) await syncDirectories(directory, firstCreated);
      this.shardDirectories.add(directory);
      return { sha256: staged.sha256, size: staged.size, created };
    } catch (error) {
      throw toStoreError(error, 'store the upload');
    } finally {
      await removeFileIfPresent(staged.tempPath);
    }
  }

  /** A batch of puts fsynced together when committed (see `FsBlobBatch`). */
  batch(): BlobBatch {
    this.assertOpened('batch');
    return new FsBlobBatch(this.root, this.levels, this.shardDirectories, this.keptOpen);
  }

  /**
   * One part is already the whole blob: nothing is written. Several are streamed into a
   * new file through `put` (a folder cannot join files without copying them).
   */
  async compose(parts: readonly string[], options: PutOptions = {}): Promise<PutResult> {
    const [only] = parts;
    if (parts.length === 1 && only !== undefined) {
      const info = await this.stat(only);
      if (!info) throw new LarderError('NotFound', `No blob is stored under ${only}.`);
      return singlePartResult(only, info.size, options);
    }
    return this.put(concatenatedBlobs(this, parts), options);
  }

  async stat(sha256: string): Promise<BlobInfo | undefined> {
    const path = blobPath(this.root, sha256, this.levels);
    try {
      return { sha256, size: (await stat(path)).size };
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return undefined;
      throw toStoreError(error, `read blob ${sha256}`);
    }
  }

  /** Streams a blob, or the inclusive `range` of it; a range not within the blob is a BadRequest. */
  async get(sha256: string, range?: ByteRange): Promise<Readable> {
    const path = blobPath(this.root, sha256, this.levels);
    if (range !== undefined) assertRangeShape(range);
    let handle: FileHandle;
    try {
      // Opening first means a concurrent delete cannot break the stream once answered.
      handle = await open(path, 'r');
    } catch (error) {
      if (errorCode(error) === 'ENOENT') throw new LarderError('NotFound', `No blob is stored under ${sha256}.`);
      throw toStoreError(error, `read blob ${sha256}`);
    }
    try {
      const { size } = await handle.stat();
      const highWaterMark = readSizeFor(range === undefined ? size : range.end - range.start + 1);
      if (range === undefined) return handle.createReadStream({ highWaterMark });
      if (range.end >= size) {
        throw new LarderError(
          'BadRequest',
          `Byte range ${range.start}-${range.end} is outside the blob of ${size} bytes.`,
          {
            data: { size },
          },
        );
      }
      return handle.createReadStream({ start: range.start, end: range.end, highWaterMark });
    } catch (error) {
      await handle.close();
      throw toStoreError(error, `read blob ${sha256}`);
    }
  }

  async delete(sha256: string): Promise<boolean> {
    const path = blobPath(this.root, sha256, this.levels);
    try {
      await unlink(path);
      return true;
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return false;
      throw toStoreError(error, `delete blob ${sha256}`);
    }
  }

  list(): AsyncIterable<string> {
    return listBlobHashes(this.root, this.levels);
  }

  private assertOpened(action: string): void {
    if (!this.opened) throw new Error(`FsBlobStore.open() must be called before ${action}().`);
  }
}

function assertRangeShape({ start, end }: ByteRange): void {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new LarderError(
      'BadRequest',
      `Byte range ${start}-${end} is invalid: expected whole numbers with 0 <= start <= end.`,
    );
  }
}

/**
 * Reads of large blobs go in 1 MiB pieces: at the stream's default 64 KiB, a pulled model's
 * gigabytes cost twice the CPU on both ends (more reads, more chunks through the socket).
 * Small blobs keep small reads, so a page of thumbnails does not allocate a MiB each.
 */
function readSizeFor(bytes: number): number {
  return bytes >= LARGE_READ_FROM ? LARGE_READ_BYTES : SMALL_READ_BYTES;
}

const LARGE_READ_BYTES = 1024 * 1024;
const SMALL_READ_BYTES = 64 * 1024;
const LARGE_READ_FROM = 8 * 1024 * 1024;
