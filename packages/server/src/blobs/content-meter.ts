/**
 * Measures an upload while it streams to a blob store: the SHA-256 and size are computed
 * on the way through, and the size limit is enforced before a byte past it is passed on.
 * Every adapter measures with this, so they hash, count and refuse in the same way.
 */
import { createHash } from 'node:crypto';
import { LarderError } from '@larder/protocol';
import type { BlobInfo } from './blob-store.js';

export interface ContentMeter {
  /** A `stream.pipeline` stage that passes the bytes through unchanged while measuring them. */
  measure(chunks: AsyncIterable<unknown>): AsyncGenerator<Buffer>;
  /**
   * Measures one chunk read by the caller (a small body staged without a pipeline) and
   * answers it as bytes; throws PayloadTooLarge past the limit, before hashing it.
   */
  take(chunk: unknown): Buffer;
  /** Hash and size of everything measured; call once, after the stream has ended. */
  result(): BlobInfo;
}

/**
 * @example
 * const meter = createContentMeter(1024 * 1024);
 * await pipeline(source, meter.measure, destination);
 * const { sha256, size } = meter.result();
 */
export function createContentMeter(maxBytes?: number): ContentMeter {
  const hash = createHash('sha256');
  let size = 0;
  const take = (chunk: unknown): Buffer => {
    const bytes = toBuffer(chunk);
    size += bytes.byteLength;
    if (maxBytes !== undefined && size > maxBytes) {
      throw new LarderError('PayloadTooLarge', `The upload is larger than the limit of ${maxBytes} bytes.`, {
        data: { maxBytes },
      });
    }
    hash.update(bytes);
    return bytes;
  };
  return {
    async *measure(chunks) {
      for await (const chunk of chunks) yield take(chunk);
    },
    take,
    result: () => ({ sha256: hash.digest('hex'), size }),
  };
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  // Object-mode sources such as `Readable.from(['text'])` yield strings.
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  throw new TypeError(`A blob source must yield bytes or strings, not ${typeof chunk}.`);
}
