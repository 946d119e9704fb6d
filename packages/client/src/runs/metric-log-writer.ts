/**
 * The write side of the local metric log (`metrics.lmc`). `append` only stores numbers into
 * in-memory float64 columns (one set per series) and returns; a background timer, or a full
 * buffer, hands the columns (views, not copies) to one binary record and appends it with a
 * single write followed by fsync, on libuv's thread pool, so the training loop never waits
 * for the disk, and no number is ever turned into text.
 *
 * A large flush (a training loop that never yields, then `finish()`) is written in pieces
 * of at most {@link PIECE_POINTS} points, each fsync'd and then handed to `onDurable` (the
 * live run's uploader), so the first points are on their way to the server while the rest
 * are still being encoded, and the uploader need not read back what was just written.
 *
 * On process exit the columns still in memory are written synchronously; a SIGKILL loses at
 * most the points of the last flush interval.
 */
import { closeSync, fdatasyncSync, openSync, writevSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import type { MetricChunk } from './metric-chunk.js';
import { encodeMetricRecord } from './metric-log-record.js';
import { type PhasedInterval, phasedInterval } from './phased-interval.js';

/** Most points of one write (and of one record): bounds the bytes held at once. */
export const PIECE_POINTS = 100_000;

/** Lines that became durable: the bytes `[from, to)` of the log, and the chunks they hold. */
export interface DurableChunks {
  from: number;
  to: number;
  chunks: MetricChunk[];
}

export interface MetricLogWriterOptions {
  /** Milliseconds between background flushes. Default 1000. */
  flushIntervalMs?: number;
  /** Buffered points that trigger a flush before the timer does. Default 20 000. */
  maxBufferedPoints?: number;
  /** Told of every write once it is fsync'd, in file order. */
  onDurable?: (written: DurableChunks) => void;
}

/**
 * A block of buffered points: entries `taken` to `length` of each column hold points not yet
 * taken by a flush, those before it were taken (views of them are on their way to disk and
 * to the uploader, and are never written again), the rest is room.
 */
interface Columns {
  steps: Float64Array;
  values: Float64Array;
  /** NaN where a point has no epoch. */
  epochs: Float64Array;
  times: Float64Array;
  length: number;
  taken: number;
  /** Whether any point not yet taken has an epoch. */
  hasEpoch: boolean;
}

interface SeriesBuffer {
  type: string;
  name: string;
  /** Index within the series of the first buffered point. */
  offset: number;
  /** Filled columns, oldest first, never written again: a full block is sealed, not copied. */
  sealed: Columns[];
  /** The columns `append` writes into. */
  current: Columns;
}

/** Consecutive points of one series taken from its buffer, not yet durable. */
interface TakenChunk {
  series: SeriesBuffer;
  chunk: MetricChunk;
}

/** Chunks written with one write and one fsync; `bytes` are encoded when their turn comes. */
interface Piece {
  chunks: TakenChunk[];
  bytes?: Uint8Array[];
}

/** Points of a series' first block; each next one is twice as large, up to the last. */
const FIRST_CAPACITY = 1024;
const LARGEST_BLOCK = 65_536;
/**
 * A block with room left and at most this many points is kept by a flush and filled on, so
 * the chunks of consecutive flushes lie side by side in its memory and the uploader sends
 * several of them as one view rather than joining copies; a larger one is left to the views
 * taken from it (it would hold up to 2 MiB per series until all of them are sent).
 */
const KEPT_BLOCK = 16_384;

const emptyColumns = (capacity: number): Columns => ({
  steps: new Float64Array(capacity),
  values: new Float64Array(capacity),
  epochs: new Float64Array(capacity),
  times: new Float64Array(capacity),
  length: 0,
  taken: 0,
  hasEpoch: false,
});

const pieceBytes = (piece: Piece): Uint8Array[] => {
  piece.bytes ??= encodeMetricRecord(piece.chunks.map((taken) => taken.chunk));
  return piece.bytes;
};

const byteLength = (buffers: readonly Uint8Array[]): number =>
  buffers.reduce((sum, buffer) => sum + buffer.byteLength, 0);

/** Writers not closed yet: one exit listener flushes them all, however many runs a process opens. */
const openWriters = new Set<MetricLogWriter>();

function flushOpenWriters(): void {
  for (const writer of openWriters) writer.flushSync();
}

export class MetricLogWriter {
  readonly path: string;
  readonly #handle: FileHandle;
  readonly #byType = new Map<string, Map<string, SeriesBuffer>>();
  readonly #maxBuffered: number;
  readonly #timer: PhasedInterval;
  #buffered = 0;
  #flushing: Promise<void> = Promise.resolve();
  #flushQueued = false;
  /** Pieces taken from the buffers whose write has not been confirmed yet, in file order. */
  #unconfirmed: Piece[] = [];
  readonly #onDurable: MetricLogWriterOptions['onDurable'];
  #lastError: unknown;
  #closed = false;
  /** Bytes known to be whole lines on disk; a failed write is cut back to this. */
  #durableBytes: number;

  private constructor(path: string, handle: FileHandle, size: number, options: MetricLogWriterOptions) {
    this.path = path;
    this.#handle = handle;
    this.#durableBytes = size;
    this.#maxBuffered = options.maxBufferedPoints ?? 20_000;
    this.#onDurable = options.onDurable;
    // At a random phase: runs started together flush (and hand their batches to the uploader)
    // at different moments.
    this.#timer = phasedInterval(() => this.#flushInBackground(), options.flushIntervalMs ?? 1000);
    openWriters.add(this);
    if (openWriters.size === 1) process.on('exit', flushOpenWriters);
  }

  /** Creates the log of a new run (every series starts at offset 0). */
  static async create(path: string, options: MetricLogWriterOptions = {}): Promise<MetricLogWriter> {
    const handle = await open(path, 'ax');
    return new MetricLogWriter(path, handle, 0, options);
  }

  /** Points buffered in memory, not yet handed to the disk. */
  get bufferedPoints(): number {
    return this.#buffered;
  }

  /** The error of the last failed background flush, if the flush after it has not succeeded. */
  get lastError(): unknown {
    return this.#lastError;
  }

  /** Buffers one point per metric; never touches the disk. `type` is already normalised. */
  append(
    type: string,
    metrics: Readonly<Record<string, number>>,
    step: number,
    epoch: number | null,
    time: number,
  ): void {
    let byName = this.#byType.get(type);
    if (byName === undefined) {
      byName = new Map();
      this.#byType.set(type, byName);
    }
    let added = 0;
    const epochValue = epoch ?? Number.NaN;
    for (const name in metrics) {
      let series = byName.get(name);
      if (series === undefined) {
        series = { type, name, offset: 0, sealed: [], current: emptyColumns(FIRST_CAPACITY) };
        byName.set(name, series);
      }
      let columns = series.current;
      if (columns.length === columns.steps.length) {
        series.sealed.push(columns);
        columns = emptyColumns(Math.min(columns.steps.length * 2, LARGEST_BLOCK));
        series.current = columns;
      }
      const at = columns.length;
      const value = metrics[name] as number;
      columns.steps[at] = step;
      // NaN and ±Infinity are all "not a number" (JSON's null), as the server stores them.
      columns.values[at] = value - value === 0 ? value : Number.NaN;
      columns.epochs[at] = epochValue;
      columns.times[at] = time;
      columns.length = at + 1;
      if (epoch !== null) columns.hasEpoch = true;
      added++;
    }
    this.#buffered += added;
    if (this.#buffered >= this.#maxBuffered && !this.#flushQueued) {
      this.#flushQueued = true;
      setImmediate(() => this.#flushInBackground());
    }
  }

  /** Writes and fsyncs everything buffered so far; rejects when the disk refuses. */
  flush(): Promise<void> {
    this.#flushQueued = false;
    const next = this.#flushing.then(() => this.#flushOnce());
    this.#flushing = next.catch(() => {});
    return next;
  }

  /** Flushes, stops the timer and closes the file. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#timer.stop();
    try {
      await this.flush();
    } finally {
      this.#closed = true;
      openWriters.delete(this);
      if (openWriters.size === 0) process.off('exit', flushOpenWriters);
      await this.#handle.close();
    }
  }

  /**
   * Writes what is buffered, and any unconfirmed asynchronous write, synchronously (for
   * `process.on('exit')`). A chunk may land twice; readers skip the repeat by its offset.
   */
  flushSync(): void {
    if (this.#closed) return;
    const pieces = [...this.#unconfirmed, ...this.#takePieces()];
    if (pieces.length === 0) return;
    const buffers = pieces.flatMap(pieceBytes);
    const descriptor = openSync(this.path, 'a');
    try {
      let written = 0;
      const total = byteLength(buffers);
      while (written < total) written += writevSync(descriptor, remainder(buffers, written));
      fdatasyncSync(descriptor);
    } finally {
      closeSync(descriptor);
    }
    this.#unconfirmed = [];
  }

  #flushInBackground(): void {
    if (this.#closed) return;
    this.flush().then(
      () => {
        this.#lastError = undefined;
      },
      (error: unknown) => {
        this.#lastError = error;
      },
    );
  }

  async #flushOnce(): Promise<void> {
    if (this.#closed) return;
    const pieces = this.#takePieces();
    if (pieces.length === 0) return;
    this.#unconfirmed = pieces;
    while (this.#unconfirmed.length > 0) {
      const piece = this.#unconfirmed[0] as Piece;
      const bytes = pieceBytes(piece);
      const from = this.#durableBytes;
      try {
        await writeAll(this.#handle, bytes);
        await this.#handle.datasync();
      } catch (error) {
        const lost = this.#unconfirmed;
        this.#unconfirmed = [];
        await this.#handle.truncate(this.#durableBytes).catch(() => {});
        // Put the points back in front, last piece first, so a later flush writes them at the same offsets.
        for (const each of lost.reverse()) {
          for (const taken of each.chunks.reverse()) this.#restore(taken.series, taken.chunk);
        }
        throw error;
      }
      this.#unconfirmed.shift();
      this.#durableBytes += byteLength(bytes);
      this.#onDurable?.({ from, to: this.#durableBytes, chunks: piece.chunks.map((taken) => taken.chunk) });
    }
  }

  /**
   * Swaps each series' columns for empty ones and groups what was taken into pieces of at
   * most {@link PIECE_POINTS} points (a longer series is cut into several chunks). Chunks are
   * views of the columns taken, never copies.
   */
  #takePieces(): Piece[] {
    const pieces: Piece[] = [];
    let piece: Piece = { chunks: [] };
    let room = PIECE_POINTS;
    for (const byName of this.#byType.values()) {
      for (const series of byName.values()) {
        const current = series.current;
        const blocks = current.length > current.taken ? [...series.sealed, current] : series.sealed;
        if (blocks.length === 0) continue;
        const taken = blocks.reduce((sum, block) => sum + block.length - block.taken, 0);
        series.sealed = [];
        const capacity = current.steps.length;
        if (current.length === capacity || capacity > KEPT_BLOCK) {
          // The next interval is likely to log as much as this one.
          series.current = emptyColumns(Math.max(FIRST_CAPACITY, Math.min(taken, LARGEST_BLOCK)));
        }
        for (const block of blocks) {
          for (let start = block.taken; start < block.length; ) {
            if (room === 0) {
              pieces.push(piece);
              piece = { chunks: [] };
              room = PIECE_POINTS;
            }
            const end = Math.min(block.length, start + room);
            piece.chunks.push({
              series,
              chunk: {
                type: series.type,
                name: series.name,
                offset: series.offset,
                steps: block.steps.subarray(start, end),
                values: block.values.subarray(start, end),
                epochs: block.hasEpoch ? block.epochs.subarray(start, end) : null,
                times: block.times.subarray(start, end),
              },
            });
            series.offset += end - start;
            room -= end - start;
            start = end;
          }
          block.taken = block.length;
          block.hasEpoch = false;
        }
      }
    }
    if (piece.chunks.length > 0) pieces.push(piece);
    this.#buffered = 0;
    return pieces;
  }

  /** Puts a chunk whose write failed back in front of what was buffered since, as a sealed block. */
  #restore(series: SeriesBuffer, chunk: MetricChunk): void {
    const count = chunk.steps.length;
    series.sealed.unshift({
      steps: chunk.steps,
      values: chunk.values,
      epochs: chunk.epochs ?? new Float64Array(count).fill(Number.NaN),
      times: chunk.times,
      length: count,
      taken: 0,
      hasEpoch: chunk.epochs !== null,
    });
    series.offset -= count;
    this.#buffered += count;
  }
}

/** Writes every byte of `buffers` at the end of the file (a write may take only part). */
async function writeAll(handle: FileHandle, buffers: readonly Uint8Array[]): Promise<void> {
  const total = byteLength(buffers);
  let written = 0;
  while (written < total) written += (await handle.writev(remainder(buffers, written))).bytesWritten;
}

/** What is left of `buffers` after their first `skip` bytes. */
function remainder(buffers: readonly Uint8Array[], skip: number): Uint8Array[] {
  if (skip === 0) return [...buffers];
  const left: Uint8Array[] = [];
  let passed = 0;
  for (const buffer of buffers) {
    const end = passed + buffer.byteLength;
    if (end > skip) left.push(skip > passed ? buffer.subarray(skip - passed) : buffer);
    passed = end;
  }
  return left;
}
