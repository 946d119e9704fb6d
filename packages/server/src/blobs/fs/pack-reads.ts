/**
 * Reading packs through plain descriptors: a pack's descriptor is shared by every read of it
 * (`PackReader`, kept open between reads by `PackReaders`), a blob is streamed by positional
 * reads (`PackRangeStream`), and a compaction copies live blobs out in as few reads as their
 * layout allows (`readEntries`).
 */
import * as fs from 'node:fs';
import { Readable } from 'node:stream';
import { LarderError } from '@larder/protocol';
import { closeDescriptor } from './durable-files.js';
import { toStoreError } from './fs-errors.js';
import { PACKED_HEADER_BYTES } from './pack-format.js';

/** An open pack file, shared by the reads of it; closed once retired and no read holds it. */
export interface PackReader {
  fd: number;
  refs: number;
  retired: boolean;
}

const READ_BYTES = 64 * 1024;

export async function openReader(path: string): Promise<PackReader> {
  const fd = await new Promise<number>((resolve, reject) =>
    fs.open(path, 'r', (error, opened) => (error ? reject(error) : resolve(opened))),
  );
  return { fd, refs: 0, retired: false };
}

/** Pack descriptors kept open between reads (least recently used closed first). */
const KEPT_OPEN_PACKS = 64;

/**
 * The packs' shared readers, opened on first use and kept open between reads, the least
 * recently used closed past `KEPT_OPEN_PACKS`. A retired reader (its pack rewritten or
 * removed, or trimmed) closes once its last read releases it.
 */
export class PackReaders {
  readonly #open = new Map<number, Promise<PackReader>>();

  constructor(private readonly pathOf: (pack: number) => string) {}

  /** The pack's shared reader, opened on first use; the caller releases it. */
  async acquire(pack: number): Promise<PackReader> {
    for (;;) {
      let opening = this.#open.get(pack);
      if (opening === undefined) {
        opening = openReader(this.pathOf(pack));
        this.#open.set(pack, opening);
        opening.catch(() => {
          if (this.#open.get(pack) === opening) this.#open.delete(pack);
        });
        this.#trim();
      } else {
        // Most recently used last, so that trimming closes the coldest.
        this.#open.delete(pack);
        this.#open.set(pack, opening);
      }
      const reader = await opening;
      if (reader.retired) continue;
      reader.refs += 1;
      return reader;
    }
  }

  release(reader: PackReader): void {
    reader.refs -= 1;
    if (reader.retired && reader.refs === 0) void closeDescriptor(reader.fd).catch(() => undefined);
  }

  /** Drops a pack's reader: closed now if unused, else when its last read ends. */
  retire(pack: number): void {
    const opening = this.#open.get(pack);
    if (opening === undefined) return;
    this.#open.delete(pack);
    opening.then(
      (reader) => {
        reader.retired = true;
        if (reader.refs === 0) void closeDescriptor(reader.fd).catch(() => undefined);
      },
      () => undefined,
    );
  }

  retireAll(): void {
    for (const pack of [...this.#open.keys()]) this.retire(pack);
  }

  #trim(): void {
    for (const pack of this.#open.keys()) {
      if (this.#open.size <= KEPT_OPEN_PACKS) return;
      this.retire(pack);
    }
  }
}

function readAt(fd: number, buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) =>
    fs.read(fd, buffer, offset, length, position, (error, bytes) => (error ? reject(error) : resolve(bytes))),
  );
}

async function readExactly(fd: number, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const bytes = await readAt(fd, buffer, done, length - done, position + done);
    if (bytes === 0) throw new Error(`the pack ends before byte ${position + length}`);
    done += bytes;
  }
  return buffer;
}

/**
 * The packed blobs `blobs` (in offset order), each with its header, as they lie in the pack:
 * blobs lying next to each other come in one read, so a pack still wholly live is one read.
 */
export async function readEntries(fd: number, blobs: readonly { offset: number; size: number }[]): Promise<Buffer[]> {
  const runs: { start: number; end: number }[] = [];
  for (const blob of blobs) {
    const start = blob.offset - PACKED_HEADER_BYTES;
    const end = blob.offset + blob.size;
    const last = runs[runs.length - 1];
    if (last !== undefined && last.end === start) last.end = end;
    else runs.push({ start, end });
  }
  const buffers: Buffer[] = [];
  for (const run of runs) buffers.push(await readExactly(fd, run.start, run.end - run.start));
  return buffers;
}

/** Positional reads of one range of a pack, through a descriptor shared with other reads. */
export class PackRangeStream extends Readable {
  private position: number;
  private remaining: number;
  /** Whether a read is in flight: the descriptor is given back only once it has settled. */
  private reading = false;
  private released = false;

  constructor(
    private readonly reader: PackReader,
    start: number,
    length: number,
    private readonly sha256: string,
    private readonly pack: number,
    private readonly onRelease: () => void,
  ) {
    super({ highWaterMark: READ_BYTES });
    this.position = start;
    this.remaining = length;
  }

  override _read(size: number): void {
    if (this.remaining === 0) {
      this.push(null);
      return;
    }
    const length = Math.min(Math.max(size, READ_BYTES), this.remaining);
    const buffer = Buffer.allocUnsafe(length);
    this.reading = true;
    readAt(this.reader.fd, buffer, 0, length, this.position).then(
      (bytes) => {
        this.reading = false;
        if (this.destroyed) {
          this.releaseOnce();
          return;
        }
        if (bytes === 0) {
          this.destroy(new LarderError('GeneralError', `Blob ${this.sha256} is cut short in pack ${this.pack}.`));
          return;
        }
        this.position += bytes;
        this.remaining -= bytes;
        this.push(bytes === length ? buffer : buffer.subarray(0, bytes));
        if (this.remaining === 0) this.push(null);
      },
      (error: unknown) => {
        this.reading = false;
        if (this.destroyed) this.releaseOnce();
        else this.destroy(toStoreError(error, `read blob ${this.sha256}`));
      },
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.reading) this.releaseOnce();
    callback(error);
  }

  private releaseOnce(): void {
    if (this.released) return;
    this.released = true;
    this.onRelease();
  }
}
