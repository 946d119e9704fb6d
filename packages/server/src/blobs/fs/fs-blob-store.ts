/**
 * The default blob store: content-addressed files under one root directory
 * (`<root>/sha256/ab/cd/<hash>`). An upload streams into `<root>/tmp/`, is hashed, checked
 * and fsynced on the way, and only then linked into place: a reader never sees a partial
 * blob, and a crash leaves at most a temp file, which the next `open()` removes.
 */
import type { FileHandle } from 'node:fs/promises';
import { link, mkdir, open, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LarderError } from '@larder/protocol';
import {
  type BlobInfo,
  type BlobStore,
  type ByteRange,
  isSha256,
  type PutOptions,
  type PutResult,
} from '../blob-store.js';
import { concatenatedBlobs, singlePartResult } from '../concatenated-blobs.js';
import { createContentMeter } from '../content-meter.js';
import { fileSink, syncDirectories } from './durable-files.js';
import { blobPath, blobsDirectory, listBlobHashes, newTempPath, tempDirectory } from './fs-blob-layout.js';
import { errorCode, toStoreError } from './fs-errors.js';

export interface FsBlobStoreOptions {
  /**
   * Directory holding the store, created by `open()`. One running store owns a root:
   * `open()` deletes whatever uploads were in progress under it.
   */
  root: string;
}

// Filesystems without hard links (FAT, some network mounts): fall back to rename, as git does.
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV', 'EMLINK']);

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
  private readonly root: string;
  private opened = false;

  constructor(options: FsBlobStoreOptions) {
    this.root = options.root;
  }

  /** Creates the directories and deletes temp files left by an upload a crash cut short. */
  async open(): Promise<void> {
    if (this.opened) return;
    try {
      await mkdir(blobsDirectory(this.root), { recursive: true });
      await rm(tempDirectory(this.root), { recursive: true, force: true });
      await mkdir(tempDirectory(this.root), { recursive: true });
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
    if (!this.opened) throw new Error('FsBlobStore.open() must be called before put().');
    const { expectedSha256, maxBytes } = options;
    if (expectedSha256 !== undefined && !isSha256(expectedSha256)) {
      throw new LarderError('BadRequest', 'expectedSha256 must be 64 lower-case hex characters (a SHA-256 hash).');
    }
    const tempPath = newTempPath(this.root);
    const meter = createContentMeter(maxBytes);
    try {
      const handle = await open(tempPath, 'wx');
      try {
        await pipeline(source, meter.measure, fileSink(handle));
      } finally {
        await handle.close();
      }
      const { sha256, size } = meter.result();
      if (expectedSha256 !== undefined && sha256 !== expectedSha256) {
        throw new LarderError(
          'BadRequest',
          `The upload hashes to ${sha256}, not to the expected ${expectedSha256}; nothing was stored. ` +
            'Check that the whole file was sent unchanged.',
          { data: { expectedSha256, actualSha256: sha256 } },
        );
      }
      const created = await this.moveIntoPlace(tempPath, blobPath(this.root, sha256));
      return { sha256, size, created };
    } catch (error) {
      throw uploadError(error, source);
    } finally {
      await rm(tempPath, { force: true });
    }
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
    const path = blobPath(this.root, sha256);
    try {
      return { sha256, size: (await stat(path)).size };
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return undefined;
      throw toStoreError(error, `read blob ${sha256}`);
    }
  }

  /** Streams a blob, or the inclusive `range` of it; a range not within the blob is a BadRequest. */
  async get(sha256: string, range?: ByteRange): Promise<Readable> {
    const path = blobPath(this.root, sha256);
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
      if (range === undefined) return handle.createReadStream();
      const { size } = await handle.stat();
      if (range.end >= size) {
        throw new LarderError(
          'BadRequest',
          `Byte range ${range.start}-${range.end} is outside the blob of ${size} bytes.`,
          {
            data: { size },
          },
        );
      }
      return handle.createReadStream({ start: range.start, end: range.end });
    } catch (error) {
      await handle.close();
      throw toStoreError(error, `read blob ${sha256}`);
    }
  }

  async delete(sha256: string): Promise<boolean> {
    const path = blobPath(this.root, sha256);
    try {
      await unlink(path);
      return true;
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return false;
      throw toStoreError(error, `delete blob ${sha256}`);
    }
  }

  list(): AsyncIterable<string> {
    return listBlobHashes(this.root);
  }

  /** Links the finished temp file to its final name unless a blob is already there. */
  private async moveIntoPlace(tempPath: string, target: string): Promise<boolean> {
    const directory = dirname(target);
    const firstCreated = await mkdir(directory, { recursive: true });
    try {
      // link() fails on an existing target, so concurrent identical uploads get exactly one `created`.
      await link(tempPath, target);
    } catch (error) {
      const code = errorCode(error);
      if (code === 'EEXIST') return false;
      if (code === undefined || !NO_HARD_LINKS.has(code)) throw error;
      if (await exists(target)) return false;
      await rename(tempPath, target);
    }
    await syncDirectories(directory, firstCreated);
    return true;
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

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return false;
    throw error;
  }
}

/** The source's own failure is the caller's to interpret; a cut-off upload is the client's doing. */
function uploadError(error: unknown, source: Readable): unknown {
  if (error instanceof LarderError) return error;
  if (error === source.errored) return error;
  if (errorCode(error) === 'ERR_STREAM_PREMATURE_CLOSE') {
    return new LarderError('BadRequest', 'The upload stopped before its end; nothing was stored.', { cause: error });
  }
  return toStoreError(error, 'store the upload');
}
