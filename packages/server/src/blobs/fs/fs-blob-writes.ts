/**
 * The two steps of writing a blob on the filesystem, shared by `put` and by a batch:
 * staging (the bytes streamed into a temp file, hashed, checked against the caller's limits)
 * and placing (the temp file linked under its hash). `put` syncs each blob between and after
 * the steps; a batch syncs all its blobs at once between them (see `fs-blob-batch.ts`).
 */
import { link, mkdir, open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LarderError } from '@larder/protocol';
import { isSha256, type PutOptions } from '../blob-store.js';
import { type ContentMeter, createContentMeter } from '../content-meter.js';
import type { DescriptorBudget } from './descriptor-budget.js';
import {
  closeDescriptor,
  exists,
  fileSink,
  removeFileIfPresent,
  syncAndClose,
  syncFile,
  writeAll,
  writeNewFile,
  writeNewFileKeptOpen,
} from './durable-files.js';
import { blobPath, newTempPath, type ShardLevels } from './fs-blob-layout.js';
import { errorCode, toStoreError } from './fs-errors.js';

/** A blob written and checked in `tmp/`, not yet under its hash. */
export interface StagedBlob {
  tempPath: string;
  sha256: string;
  size: number;
  /**
   * The temp file's descriptor, when it was kept open for the sync (`syncStaged`), which
   * closes it and clears this; `releaseStaged` closes it unsynced.
   */
  descriptor?: number;
}

/** Where a placed blob went, and what must be fsynced for it to persist. */
export interface PlacedBlob {
  /** False when a blob with this hash was already stored. */
  created: boolean;
  directory: string;
  /** What `mkdir({ recursive: true })` answered: the first directory it had to create. */
  firstCreated: string | undefined;
}

// Filesystems without hard links (FAT, some network mounts): fall back to rename, as git does.
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV', 'EMLINK']);

/**
 * Bodies up to this size are read whole first and written in one go, without a stream
 * pipeline (whose abort signals and stream wrappers cost more CPU than a small file's own
 * write); larger ones have their first this many bytes written so and the rest streamed.
 */
export const SMALL_BODY_BYTES = 1024 * 1024;

/** A small blob of a batch checked and kept in memory until its commit packs it (`fs-blob-packs.ts`). */
export interface HeldBlob {
  sha256: string;
  size: number;
  /** The whole body, one buffer (copied out of the source's chunks, which may share larger ones). */
  bytes: Buffer;
}

/**
 * Decides, once a whole small body is read and checked, whether it is held in memory instead
 * of written to a temp file: answers true when it took the bytes from its budget.
 */
export type HoldSmallBody = (size: number) => boolean;

/**
 * Streams `source` into a fresh temp file under `root`, hashing and checking it; fsynced
 * before answering when `durable`. Not durable, a small body's file stays open when
 * `keepOpen` has a descriptor to spare (see `StagedBlob.descriptor`). On any failure the
 * temp file is closed and removed and the error is a LarderError, or the source's own error
 * as it was.
 */
export async function stageBlob(
  root: string,
  source: Readable,
  options: PutOptions,
  durable: boolean,
  keepOpen?: DescriptorBudget,
): Promise<StagedBlob> {
  return (await stageOrHoldBlob(root, source, options, durable, keepOpen)) as StagedBlob;
}

/**
 * `stageBlob`, except that a whole body `hold` accepts is answered in memory, with no temp
 * file (a batch's small blob, bound for a pack). The checks and errors are the same.
 */
export async function stageOrHoldBlob(
  root: string,
  source: Readable,
  options: PutOptions,
  durable: boolean,
  keepOpen?: DescriptorBudget,
  hold?: HoldSmallBody,
): Promise<StagedBlob | HeldBlob> {
  const { expectedSha256, maxBytes } = options;
  if (expectedSha256 !== undefined && !isSha256(expectedSha256)) {
    throw new LarderError('BadRequest', 'expectedSha256 must be 64 lower-case hex characters (a SHA-256 hash).');
  }
  const tempPath = newTempPath(root);
  const meter = createContentMeter(maxBytes);
  let descriptor: number | undefined;
  try {
    const head = await readHead(source, meter, SMALL_BODY_BYTES);
    if (head.ended) {
      // The whole body is here: check it before writing anything.
      const measured = checked(meter, expectedSha256);
      if (hold?.(measured.size)) return { ...measured, bytes: Buffer.concat(head.chunks, measured.size) };
      if (!durable && keepOpen?.reserve()) {
        try {
          descriptor = await writeNewFileKeptOpen(tempPath, head.chunks);
        } catch (error) {
          keepOpen.release();
          throw error;
        }
      } else await writeNewFile(tempPath, head.chunks, durable);
      return descriptor === undefined ? { tempPath, ...measured } : { tempPath, ...measured, descriptor };
    }
    const handle = await open(tempPath, 'wx');
    try {
      await writeAll(handle, head.chunks);
      await pipeline(source, meter.measure, fileSink(handle, { durable }));
    } finally {
      await handle.close();
    }
    return { tempPath, ...checked(meter, expectedSha256) };
  } catch (error) {
    if (descriptor !== undefined) await closeKept(descriptor, keepOpen, false);
    await removeFileIfPresent(tempPath);
    throw uploadError(error, source);
  }
}

/** The measured hash and size, refused (BadRequest) unless the hash is the one expected. */
function checked(meter: ContentMeter, expectedSha256: string | undefined): { sha256: string; size: number } {
  const { sha256, size } = meter.result();
  if (expectedSha256 !== undefined && sha256 !== expectedSha256) {
    throw new LarderError(
      'BadRequest',
      `The upload hashes to ${sha256}, not to the expected ${expectedSha256}; nothing was stored. ` +
        'Check that the whole file was sent unchanged.',
      { data: { expectedSha256, actualSha256: sha256 } },
    );
  }
  return { sha256, size };
}

/**
 * Makes a staged blob's bytes durable: through its kept descriptor (then closed and given
 * back to `budget`), or by opening the temp file again.
 */
export async function syncStaged(staged: StagedBlob, budget: DescriptorBudget): Promise<void> {
  const { descriptor } = staged;
  if (descriptor === undefined) return syncFile(staged.tempPath);
  staged.descriptor = undefined;
  await closeKept(descriptor, budget, true);
}

/** Closes a staged blob's kept descriptor, if it still has one, without syncing it. */
export async function releaseStaged(staged: StagedBlob, budget: DescriptorBudget): Promise<void> {
  const { descriptor } = staged;
  if (descriptor === undefined) return;
  staged.descriptor = undefined;
  await closeKept(descriptor, budget, false);
}

async function closeKept(descriptor: number, budget: DescriptorBudget | undefined, sync: boolean): Promise<void> {
  try {
    await (sync ? syncAndClose(descriptor) : closeDescriptor(descriptor));
  } finally {
    budget?.release();
  }
}

interface Head {
  chunks: Buffer[];
  /** Whether `chunks` are the whole body; if not, `source` is paused after them. */
  ended: boolean;
}

/**
 * Reads `source` up to its end or `limit` bytes, measuring each chunk. A chunk past the
 * size limit destroys the source, as the pipeline does; a source closed before its end is
 * a cut-off upload.
 */
function readHead(source: Readable, meter: ContentMeter, limit: number): Promise<Head> {
  return new Promise((resolve, reject) => {
    if (source.errored) {
      reject(source.errored);
      return;
    }
    if (source.readableEnded) {
      resolve({ chunks: [], ended: true });
      return;
    }
    if (source.destroyed) {
      reject(cutOff());
      return;
    }
    const chunks: Buffer[] = [];
    let bytes = 0;
    const settle = () => {
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('error', onError);
      source.off('close', onClose);
    };
    const onData = (chunk: unknown) => {
      let taken: Buffer;
      try {
        taken = meter.take(chunk);
      } catch (error) {
        settle();
        // Destroyed without the error, which is answered here: a listener-less source
        // would otherwise raise it as an unhandled 'error' event.
        source.destroy();
        reject(error);
        return;
      }
      chunks.push(taken);
      bytes += taken.byteLength;
      if (bytes < limit) return;
      source.pause();
      settle();
      resolve({ chunks, ended: false });
    };
    const onEnd = () => {
      settle();
      resolve({ chunks, ended: true });
    };
    const onError = (error: unknown) => {
      settle();
      reject(error);
    };
    const onClose = () => {
      settle();
      reject(source.errored ?? cutOff());
    };
    source.on('data', onData);
    source.once('end', onEnd);
    source.once('error', onError);
    source.once('close', onClose);
  });
}

function cutOff(): LarderError {
  return new LarderError('BadRequest', 'The upload stopped before its end; nothing was stored.');
}

/**
 * Links the staged file to its final name unless a blob is already there; the temp file
 * stays for the caller to remove. The new entry persists once the caller has fsynced
 * `directoriesToSync(directory, firstCreated)`; the caller then adds `directory` to `made`,
 * the shard directories known to exist, so that later blobs there need no `mkdir`. One
 * removed behind the store's back is made again when the link finds it missing.
 */
export async function placeBlob(
  root: string,
  levels: ShardLevels,
  staged: StagedBlob,
  made: ReadonlySet<string>,
): Promise<PlacedBlob> {
  const target = blobPath(root, staged.sha256, levels);
  const directory = dirname(target);
  const known = made.has(directory);
  let firstCreated = known ? undefined : await mkdir(directory, { recursive: true });
  const placed = (created: boolean) => ({ created, directory, firstCreated });
  try {
    await linkOrMove(staged.tempPath, target);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'EEXIST') return placed(false);
    if (!(known && code === 'ENOENT')) throw error;
    firstCreated = await mkdir(directory, { recursive: true });
    try {
      await linkOrMove(staged.tempPath, target);
    } catch (again) {
      if (errorCode(again) === 'EEXIST') return placed(false);
      throw again;
    }
  }
  return placed(true);
}

/**
 * link() fails on an existing target (EEXIST), so concurrent identical uploads get exactly
 * one `created`; without hard links the file is renamed into place unless one is there.
 */
async function linkOrMove(tempPath: string, target: string): Promise<void> {
  try {
    await link(tempPath, target);
  } catch (error) {
    const code = errorCode(error);
    if (code === undefined || !NO_HARD_LINKS.has(code)) throw error;
    if (await exists(target)) throw Object.assign(new Error(`${target} exists`), { code: 'EEXIST' });
    await rename(tempPath, target);
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
