/**
 * Raw disk write speed, the yardstick for blob uploads: `bytes` written through an
 * fs write stream, then fsynced, on the same filesystem the server stores blobs on.
 */
import { randomFillSync } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** Large writes: the raw yardstick should be as fast as this disk goes from Node. */
export const CHUNK_BYTES = 8 * 1024 * 1024;

/** A stream of `bytes` bytes repeating one random chunk: no generator cost in the timing. */
function repeatedChunk(bytes) {
  const chunk = randomFillSync(Buffer.alloc(CHUNK_BYTES));
  return Readable.from(
    (function* () {
      for (let left = bytes; left > 0; left -= CHUNK_BYTES) yield left >= CHUNK_BYTES ? chunk : chunk.subarray(0, left);
    })(),
  );
}

/** Writes, fsyncs and deletes `path`; answers MB/s (MB = 10^6 bytes). */
export async function measureDiskWrite(path, bytes) {
  const started = performance.now();
  await pipeline(repeatedChunk(bytes), createWriteStream(path, { highWaterMark: CHUNK_BYTES }));
  const handle = await open(path, 'r+');
  await handle.sync();
  await handle.close();
  const seconds = (performance.now() - started) / 1000;
  await rm(path);
  return { bytes, seconds: Math.round(seconds * 1000) / 1000, mbPerSec: Math.round(bytes / 1e6 / seconds) };
}
