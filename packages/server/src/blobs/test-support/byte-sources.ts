/**
 * Byte sources and sinks for blob store tests: streams that fail, stall or never end on
 * cue, large deterministic content that is generated rather than held in memory, and
 * helpers to hash or collect what a store streams back.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

/** Lower-case hex SHA-256 of some bytes. */
export function sha256Of(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** `length` bytes that differ from position to position, so misplaced bytes change the hash. */
export function patternBytes(length: number, seed = 0): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  return bytes;
}

/** A source that sends `bytes` in chunks of `chunkSize`. */
export function bytesSource(bytes: Buffer, chunkSize = 64 * 1024): Readable {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += chunkSize)
    chunks.push(bytes.subarray(offset, offset + chunkSize));
  return Readable.from(chunks);
}

/**
 * `totalBytes` of deterministic content, generated chunk by chunk (never held whole).
 * Call twice with the same arguments to get the same bytes twice.
 */
export function* generatedChunks(totalBytes: number, chunkSize = 64 * 1024): Generator<Buffer> {
  for (let offset = 0, index = 0; offset < totalBytes; offset += chunkSize, index++) {
    const chunk = Buffer.alloc(Math.min(chunkSize, totalBytes - offset));
    const words = Math.floor(chunk.length / 4);
    for (let word = 0; word < words; word++)
      chunk.writeUInt32LE((index * 0x9e3779b1 + word * 0x85ebca6b) >>> 0, word * 4);
    yield chunk;
  }
}

export interface CountedSource {
  stream: Readable;
  /** How many bytes the consumer has pulled so far. */
  pulled(): number;
}

/** A large generated source that counts how much of it the consumer pulls. */
export function countedSource(totalBytes: number, chunkSize = 64 * 1024): CountedSource {
  let pulled = 0;
  const chunks = generatedChunks(totalBytes, chunkSize);
  const stream = new Readable({
    read() {
      const next = chunks.next();
      if (next.done) {
        this.push(null);
        return;
      }
      pulled += next.value.length;
      this.push(next.value);
    },
  });
  return { stream, pulled: () => pulled };
}

/** A source that sends `head`, then fails with `error` (a connection reset, say). */
export function failingSource(head: Buffer, error: Error): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (!sent) {
        sent = true;
        this.push(head);
      } else {
        this.destroy(error);
      }
    },
  });
}

export interface StalledSource {
  stream: Readable;
  /** Resolves once the consumer has taken `head` and is waiting for more. */
  stalled: Promise<void>;
  /** Sends `tail` and ends the stream. */
  resume(): void;
}

/** A source that sends `head`, then waits for `resume()` before sending `tail`: an upload in progress. */
export function stalledSource(head: Buffer, tail: Buffer): StalledSource {
  let resume!: () => void;
  const resumed = new Promise<void>((resolve) => {
    resume = resolve;
  });
  let markStalled!: () => void;
  const stalled = new Promise<void>((resolve) => {
    markStalled = resolve;
  });
  let step = 0;
  const stream = new Readable({
    // Asks for the next chunk only when the consumer wants one.
    highWaterMark: 0,
    read() {
      if (step === 0) this.push(head);
      if (step === 1) {
        markStalled();
        void resumed.then(() => {
          this.push(tail);
          this.push(null);
        });
      }
      step++;
    },
  });
  return { stream, stalled, resume };
}

/** Reads a whole (small) stream into one Buffer. */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** Hash and length of a stream, read without holding it in memory. */
export async function hashStream(stream: AsyncIterable<Uint8Array>): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    hash.update(chunk);
    size += chunk.byteLength;
  }
  return { sha256: hash.digest('hex'), size };
}

/** Collects an async iterable into an array. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}
