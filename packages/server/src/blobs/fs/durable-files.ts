/**
 * Writing files that survive a crash or power cut: data is fsynced before a file is
 * declared written, and directories are fsynced after entries are added to them.
 */
import * as fs from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Writable } from 'node:stream';
import { errorCode } from './fs-errors.js';

export interface FileSinkOptions {
  /**
   * Whether the sink finishes only once its bytes are on disk (default true). A batch of
   * small files leaves it off and syncs them all together afterwards (`syncFile`).
   */
  durable?: boolean;
}

/**
 * A Writable over an open file that only finishes once its bytes are on disk, so that
 * `await pipeline(source, fileSink(handle))` resolves with the data durable.
 * The caller keeps ownership of the handle and closes it.
 *
 * A large file is flushed as it grows (a `datasync` every FLUSH_EVERY_BYTES, not waited for
 * while the next bytes arrive), so the last sync waits on the tail only, not on the whole
 * dirty file: the disk writes while the network receives.
 */
export function fileSink(handle: FileHandle, options: FileSinkOptions = {}): Writable {
  const durable = options.durable ?? true;
  let unflushed = 0;
  let flushing: Promise<void> | undefined;
  let flushError: unknown;
  const written = (bytes: number) => {
    unflushed += bytes;
    if (!durable || unflushed < FLUSH_EVERY_BYTES || flushing) return;
    unflushed = 0;
    flushing = handle.datasync().then(
      () => {
        flushing = undefined;
      },
      (error: unknown) => {
        flushError ??= error;
        flushing = undefined;
      },
    );
  };
  return new Writable({
    // Chunks that arrive while a write is in flight are buffered (up to this much) and go
    // to the disk together in one writev: fewer, larger writes keep up with the network.
    highWaterMark: SINK_BUFFER_BYTES,
    write(chunk: Buffer, _encoding, callback) {
      writeFully(handle, chunk).then(() => {
        written(chunk.byteLength);
        callback();
      }, callback);
    },
    writev(chunks, callback) {
      const buffers = chunks.map(({ chunk }) => chunk as Buffer);
      writeAll(handle, buffers).then(() => {
        written(buffers.reduce((sum, buffer) => sum + buffer.byteLength, 0));
        callback();
      }, callback);
    },
    final(callback) {
      if (!durable) {
        callback();
        return;
      }
      const settle = async () => {
        await flushing;
        if (flushError !== undefined) throw flushError;
        await handle.sync();
      };
      settle().then(() => callback(), callback);
    },
    destroy(error, callback) {
      // A flush still running holds the handle: let it end before the caller closes it.
      Promise.resolve(flushing).then(() => callback(error));
    },
  });
}

/** Flushing a large file every this many bytes as it is written (see `fileSink`). */
const FLUSH_EVERY_BYTES = 32 * 1024 * 1024;
const SINK_BUFFER_BYTES = 8 * 1024 * 1024;

/** Writes `chunks` at the file's current position, in one vectored write when the system takes it whole. */
export async function writeAll(handle: FileHandle, chunks: Buffer[]): Promise<void> {
  const total = chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0);
  const { bytesWritten } = await handle.writev(chunks);
  if (bytesWritten === total) return;
  // A short vectored write: finish the rest chunk by chunk.
  let skip = bytesWritten;
  for (const chunk of chunks) {
    if (skip >= chunk.byteLength) {
      skip -= chunk.byteLength;
      continue;
    }
    await writeFully(handle, chunk.subarray(skip));
    skip = 0;
  }
}

async function writeFully(handle: FileHandle, chunk: Buffer): Promise<void> {
  let offset = 0;
  while (offset < chunk.byteLength) {
    const { bytesWritten } = await handle.write(chunk, offset);
    offset += bytesWritten;
  }
}

/**
 * Fsyncs `directory` so a new entry in it persists; when `mkdir` had to create directories
 * (`firstCreated` is what `mkdir({ recursive: true })` answered), their parents too.
 */
export async function syncDirectories(directory: string, firstCreated: string | undefined): Promise<void> {
  for (const current of directoriesToSync(directory, firstCreated)) await syncDirectory(current);
}

/**
 * The directories `syncDirectories` fsyncs, deepest first: a batch gathers them for all its
 * files and syncs each distinct one once.
 */
export function directoriesToSync(directory: string, firstCreated: string | undefined): string[] {
  const stopAt = firstCreated === undefined ? directory : dirname(firstCreated);
  const directories: string[] = [];
  for (let current = directory; ; current = dirname(current)) {
    directories.push(current);
    if (current === stopAt || current === dirname(current)) return directories;
  }
}

/**
 * Writes a whole body into the new file `path` (which must not exist), fsynced before
 * answering when `durable`. Through a plain descriptor: a `FileHandle` per small file costs
 * more CPU (its object, its finalizer) than the file's own write.
 */
export async function writeNewFile(path: string, chunks: readonly Buffer[], durable: boolean): Promise<void> {
  const fd = await writeNewFileKeptOpen(path, chunks);
  if (durable) await syncAndClose(fd);
  else await closeDescriptor(fd);
}

/**
 * `writeNewFile` without the sync, answering the file's descriptor still open: the caller
 * fsyncs and closes it later through `syncAndClose` (or `closeDescriptor`), with no second
 * open. On a failed write the descriptor is closed here.
 */
export async function writeNewFileKeptOpen(path: string, chunks: readonly Buffer[]): Promise<number> {
  const fd = await descriptorCall<number>((done) => fs.open(path, 'wx', done));
  try {
    let rest = chunks.filter((chunk) => chunk.byteLength > 0);
    while (rest.length > 0) {
      let written = await descriptorCall<number>((done) => fs.writev(fd, rest, (error, bytes) => done(error, bytes)));
      // A short vectored write: go on from where it stopped.
      const next: Buffer[] = [];
      for (const chunk of rest) {
        if (written >= chunk.byteLength) written -= chunk.byteLength;
        else {
          next.push(written > 0 ? chunk.subarray(written) : chunk);
          written = 0;
        }
      }
      rest = next;
    }
    return fd;
  } catch (error) {
    await closeDescriptor(fd);
    throw error;
  }
}

/** Fsyncs a file already written and closed (a batch's, synced together with the others). */
export async function syncFile(path: string): Promise<void> {
  await syncAndClose(await descriptorCall<number>((done) => fs.open(path, 'r+', done)));
}

/** Fsyncs the open file `fd`, then closes it whether or not the sync succeeded. */
export async function syncAndClose(fd: number): Promise<void> {
  try {
    await descriptorCall<void>((done) => fs.fsync(fd, done));
  } finally {
    await closeDescriptor(fd);
  }
}

export function closeDescriptor(fd: number): Promise<void> {
  return descriptorCall<void>((done) => fs.close(fd, done));
}

/** Removes the file `path` if it is there: one `unlink`, where `rm({ force })` first stats. */
export async function removeFileIfPresent(path: string): Promise<void> {
  try {
    await descriptorCall<void>((done) => fs.unlink(path, done));
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
  }
}

function descriptorCall<T>(call: (done: (error: NodeJS.ErrnoException | null, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    call((error, value) => (error ? reject(error) : resolve(value as T)));
  });
}

// Some platforms (Windows) cannot open or fsync a directory; there the rename is all we get.
const CANNOT_SYNC_DIRECTORY = new Set(['EISDIR', 'EPERM', 'EACCES', 'EINVAL', 'ENOTSUP']);

/** Through a plain descriptor, as `syncFile`: a batch syncs a directory per new shard. */
export async function syncDirectory(directory: string): Promise<void> {
  let fd: number | undefined;
  try {
    fd = await descriptorCall<number>((done) => fs.open(directory, 'r', done));
    const opened = fd;
    await descriptorCall<void>((done) => fs.fsync(opened, done));
  } catch (error) {
    if (!CANNOT_SYNC_DIRECTORY.has(errorCode(error) ?? '')) throw error;
  } finally {
    const opened = fd;
    if (opened !== undefined) await descriptorCall<void>((done) => fs.close(opened, done));
  }
}

/** Whether something is at `path` (a missing path is false; any other error is thrown). */
export async function exists(path: string): Promise<boolean> {
  try {
    await fs.promises.stat(path);
    return true;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return false;
    throw error;
  }
}
