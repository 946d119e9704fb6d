/**
 * Writing files that survive a crash or power cut: data is fsynced before a file is
 * declared written, and directories are fsynced after entries are added to them.
 */
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Writable } from 'node:stream';
import { errorCode } from './fs-errors.js';

/**
 * A Writable over an open file that only finishes once its bytes are on disk, so that
 * `await pipeline(source, fileSink(handle))` resolves with the data durable.
 * The caller keeps ownership of the handle and closes it.
 */
export function fileSink(handle: FileHandle): Writable {
  return new Writable({
    // Chunks that arrive while a write is in flight are buffered (up to this much) and go
    // to the disk together in one writev: fewer, larger writes keep up with the network.
    highWaterMark: SINK_BUFFER_BYTES,
    write(chunk: Buffer, _encoding, callback) {
      writeFully(handle, chunk).then(() => callback(), callback);
    },
    writev(chunks, callback) {
      writeAll(
        handle,
        chunks.map(({ chunk }) => chunk as Buffer),
      ).then(() => callback(), callback);
    },
    final(callback) {
      handle.sync().then(() => callback(), callback);
    },
  });
}

const SINK_BUFFER_BYTES = 8 * 1024 * 1024;

async function writeAll(handle: FileHandle, chunks: Buffer[]): Promise<void> {
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
  const stopAt = firstCreated === undefined ? directory : dirname(firstCreated);
  for (let current = directory; ; current = dirname(current)) {
    await syncDirectory(current);
    if (current === stopAt || current === dirname(current)) return;
  }
}

// Some platforms (Windows) cannot open or fsync a directory; there the rename is all we get.
const CANNOT_SYNC_DIRECTORY = new Set(['EISDIR', 'EPERM', 'EACCES', 'EINVAL', 'ENOTSUP']);

async function syncDirectory(directory: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(directory, 'r');
    await handle.sync();
  } catch (error) {
    if (!CANNOT_SYNC_DIRECTORY.has(errorCode(error) ?? '')) throw error;
  } finally {
    await handle?.close();
  }
}
