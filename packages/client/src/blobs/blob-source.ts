/**
 * Bytes in memory as an upload source, and the one-pass chunk plan of a source (files are
 * planned on a worker thread instead: `file-hashing.ts`).
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

export interface ChunkPlan {
  sha256: string;
  chunks: { start: number; end: number; sha256: string }[];
}

/** One pass over the source: the hash of each chunk and of the whole. */
export async function planChunks(source: BlobSource, chunkBytes: number): Promise<ChunkPlan> {
  const whole = createHash('sha256');
  const chunks: ChunkPlan['chunks'] = [];
  const step = Math.min(chunkBytes, 8 * 1024 * 1024);
  // A source of one chunk is that chunk: its hash is the whole's, computed once.
  const single = source.size <= chunkBytes;
  for (let start = 0; start < source.size || chunks.length === 0; start += chunkBytes) {
    const end = Math.min(start + chunkBytes, source.size);
    const part = single ? undefined : createHash('sha256');
    for (let at = start; at < end; at += step) {
      const bytes = await source.slice(at, Math.min(at + step, end));
      part?.update(bytes);
      whole.update(bytes);
    }
    chunks.push({ start, end, sha256: part ? part.digest('hex') : '' });
    if (end >= source.size) break;
  }
  const sha256 = whole.digest('hex');
  if (single) (chunks[0] as ChunkPlan['chunks'][number]).sha256 = sha256;
  return { sha256, chunks };
}
