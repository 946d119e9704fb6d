/**
 * The default blob store: content-addressed bytes under one root directory.
 *
 * Layout:
 * - `sha256/ab/<hash>`: a blob as a file of its own (`sha256/ab/cd/<hash>` in stores made
 *   before 3 December 2026; `sha256/levels` records which). Every `put`, and every blob of a
 *   batch past the pack size, lands here.
 * - `packs/<id>.pack` and `packs/index.db`: the small blobs of batches (up to 256 KiB each,
 *   64 MiB held per batch, 256 MiB by all batches at once), one pack file per commit (merged once
 *   many small ones gather), and the SQLite index of where each lies
 *   (`fs-blob-packs.ts`), beside `packs/index.lock`, which every open store holds shared so
 *   that none repairs the index under another (`pack-index-lock.ts`). Made by the first batch
 *   that packs a blob: an older store, or one only ever written by `put`, has none.
 * - `tmp/`: uploads in progress.
 *
 * An upload streams into `tmp/`, is hashed, checked and fsynced on the way, and only then
 * linked into place; a packed blob is indexed only once its pack is fsynced. A reader never
 * sees a partial blob, and a crash leaves at most a temp file or a pack no index row names,
 * which the next `open()` removes. `stat`, `get`, `delete` and `list` see both kinds; a hash
 * stored both ways (two uploads racing) is listed once and deleted both ways.
 */
import { existsSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, rm, stat, unlink } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { LarderError } from '@larder/protocol';
import type { BlobBatch, BlobInfo, BlobStore, ByteRange, PutOptions, PutResult } from '../blob-store.js';
import { concatenatedBlobs, singlePartResult } from '../concatenated-blobs.js';
import { DescriptorBudget, defaultKeptOpenFiles } from './descriptor-budget.js';
import { removeFileIfPresent, syncDirectories } from './durable-files.js';
import { FsBlobBatch, HeldBytesBudget } from './fs-blob-batch.js';
import {
  blobPath,
  blobsDirectory,
  listBlobHashes,
  openShardLevels,
  type ShardLevels,
  tempDirectory,
} from './fs-blob-layout.js';
import { FsBlobPacks } from './fs-blob-packs.js';
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
  /**
   * Blobs of a batch up to this many bytes go into the batch's pack instead of a file each
   * (default 256 KiB; 0 packs none). Creating a file costs ~60 syscalls whatever its size;
   * past a few hundred KiB the write itself dominates and a file of its own is as cheap.
   */
  packBlobsUpTo?: number;
  /**
   * The most bytes of small blobs one batch holds in memory for its pack (default 64 MiB);
   * later ones are staged as files, as larger blobs are.
   */
  packBytesPerBatch?: number;
  /**
   * The most bytes of small blobs all batches hold in memory at once (default 256 MiB): a
   * batch that would pass it stages its small blobs as files.
   */
  packBytesHeld?: number;
  /**
   * Told what the store repaired on its own, such as a damaged pack index moved aside and
   * rebuilt from the packs. By default a process warning (`process.emitWarning`), which Node
   * prints on stderr.
   */
  onWarning?: (message: string) => void;
}

const DEFAULT_PACK_BLOBS_UP_TO = 256 * 1024;
const DEFAULT_PACK_BYTES_PER_BATCH = 64 * 1024 * 1024;
const DEFAULT_PACK_BYTES_HELD = 256 * 1024 * 1024;

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
  private readonly packs: FsBlobPacks;
  private readonly packBlobsUpTo: number;
  private readonly packBytesPerBatch: number;
  private readonly heldBudget: HeldBytesBudget;

  constructor(options: FsBlobStoreOptions) {
    this.root = options.root;
    this.keptOpen = new DescriptorBudget(options.keptOpenFiles ?? defaultKeptOpenFiles());
    this.packs = new FsBlobPacks(options.root, { onWarning: options.onWarning });
    this.packBlobsUpTo = options.packBlobsUpTo ?? DEFAULT_PACK_BLOBS_UP_TO;
    this.packBytesPerBatch = options.packBytesPerBatch ?? DEFAULT_PACK_BYTES_PER_BATCH;
    this.heldBudget = new HeldBytesBudget(options.packBytesHeld ?? DEFAULT_PACK_BYTES_HELD);
  }

  /**
   * Creates the directories, deletes temp files left by an upload a crash cut short, and
   * opens the pack index, removing packs a crash left unindexed.
   */
  async open(): Promise<void> {
    if (this.opened) return;
    try {
      await mkdir(blobsDirectory(this.root), { recursive: true });
      await rm(tempDirectory(this.root), { recursive: true, force: true });
      await mkdir(tempDirectory(this.root), { recursive: true });
      this.levels = await openShardLevels(this.root);
      await this.packs.open();
    } catch (error) {
      throw toStoreError(error, `open ${this.root}`);
    }
    this.opened = true;
  }

  /** Waits for pack rewrites under way, then closes the pack index and descriptors. */
  async close(): Promise<void> {
    if (!this.opened) return;
    this.opened = false;
    await this.packs.close();
  }

  /** Resolves once the pack rewrites (compactions, merges) queued so far are done (for tests). */
  compacted(): Promise<void> {
    return this.packs.settled();
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
      // Already packed by a batch: stored once, as a second identical file would be.
      if (this.packs.find(staged.sha256)) {
        await this.packs.durableNow();
        return { sha256: staged.sha256, size: staged.size, created: false };
      }
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
    return new FsBlobBatch(this.root, this.levels, this.shardDirectories, this.keptOpen, {
      packs: this.packs,
      blobsUpTo: this.packBlobsUpTo,
      bytesPerBatch: this.packBytesPerBatch,
      heldBudget: this.heldBudget,
      // Synchronous: a missing path answers false without the Error (and its stack) that an
      // asynchronous stat builds, ~45 µs a blob through the pool; a lookup in the cached
      // directory costs a few µs.
      isLoose: async (sha256) => existsSync(blobPath(this.root, sha256, this.levels)),
    });
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

  /** From the pack index, else from the blob's file. */
  async stat(sha256: string): Promise<BlobInfo | undefined> {
    const path = blobPath(this.root, sha256, this.levels);
    const located = this.packs.find(sha256);
    if (located) return { sha256, size: located.size };
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
    const located = this.packs.find(sha256);
    if (located) {
      if (range !== undefined) assertRangeWithin(range, located.size);
      const start = range?.start ?? 0;
      const end = range?.end ?? located.size - 1;
      const stream = await this.packs.read(sha256, start, end - start + 1);
      if (stream) return stream;
      // Deleted since the lookup, or moved to a file by nothing: what the file says decides.
    }
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
      assertRangeWithin(range, size);
      return handle.createReadStream({ start: range.start, end: range.end, highWaterMark });
    } catch (error) {
      await handle.close();
      throw toStoreError(error, `read blob ${sha256}`);
    }
  }

  /** Deletes the blob's pack entry and its file, whichever it has (both, after a race). */
  async delete(sha256: string): Promise<boolean> {
    const path = blobPath(this.root, sha256, this.levels);
    let packed: boolean;
    try {
      packed = await this.packs.delete(sha256);
    } catch (error) {
      throw toStoreError(error, `delete blob ${sha256}`);
    }
    try {
      await unlink(path);
      return true;
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return packed;
      throw toStoreError(error, `delete blob ${sha256}`);
    }
  }

  /** Files and packed blobs, merged in ascending order, each hash once. */
  async *list(): AsyncIterable<string> {
    const files = listBlobHashes(this.root, this.levels)[Symbol.asyncIterator]();
    const packed = this.packs.list()[Symbol.asyncIterator]();
    let file = await files.next();
    let pack = await packed.next();
    while (!file.done || !pack.done) {
      if (pack.done || (!file.done && file.value < pack.value)) {
        yield file.value as string;
        file = await files.next();
      } else if (file.done || pack.value < file.value) {
        yield pack.value;
        pack = await packed.next();
      } else {
        yield file.value;
        file = await files.next();
        pack = await packed.next();
      }
    }
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

function assertRangeWithin({ start, end }: ByteRange, size: number): void {
  if (end < size) return;
  throw new LarderError('BadRequest', `Byte range ${start}-${end} is outside the blob of ${size} bytes.`, {
    data: { size },
  });
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
