/**
 * What can be uploaded: bytes in memory or a file on disk, read in slices so a file of any
 * size costs one chunk of memory.
 */
import { createHash } from 'node:crypto';

export interface BlobSource {
  size: number;
  /** The bytes from `start` (inclusive) to `end` (exclusive). */
  slice(start: number, end: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

export function bytesSource(bytes: Uint8Array): BlobSource {
  return {
    size: bytes.byteLength,
    slice: async (start, end) => bytes.subarray(start, end),
    close: async () => {},
  };
}

export async function fileSource(path: string): Promise<BlobSource> {
  const { open } = await import('node:fs/promises');
  const handle = await open(path, 'r');
  const { size } = await handle.stat();
  return {
    size,
    slice: async (start, end) => {
      const buffer = Buffer.allocUnsafe(end - start);
      let filled = 0;
      while (filled < buffer.length) {
        const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, start + filled);
        if (bytesRead === 0) throw new Error(`${path} shrank while it was being uploaded`);
        filled += bytesRead;
      }
      return buffer;
    },
    close: () => handle.close(),
  };
}

export interface ChunkPlan {
  sha256: string;
  chunks: { start: number; end: number; sha256: string }[];
}

/** One pass over the source: the hash of each chunk and of the whole. */
export async function planChunks(source: BlobSource, chunkBytes: number): Promise<ChunkPlan> {
  const whole = createHash('sha256');
  const chunks: ChunkPlan['chunks'] = [];
  const step = Math.min(chunkBytes, 8 * 1024 * 1024);
  for (let start = 0; start < source.size || chunks.length === 0; start += chunkBytes) {
    const end = Math.min(start + chunkBytes, source.size);
    const part = createHash('sha256');
    for (let at = start; at < end; at += step) {
      const bytes = await source.slice(at, Math.min(at + step, end));
      part.update(bytes);
      whole.update(bytes);
    }
    chunks.push({ start, end, sha256: part.digest('hex') });
    if (end >= source.size) break;
  }
  return { sha256: whole.digest('hex'), chunks };
}
