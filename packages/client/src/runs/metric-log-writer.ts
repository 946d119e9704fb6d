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

/** Columns of buffered points; `length` of each holds points, the rest is room to grow. */
interface Columns {
  steps: Float64Array;
  values: Float64Array;
  /** NaN where a point has no epoch. */
  epochs: Float64Array;
  times: Float64Array;
  length: number;
  /** Whether any point of these columns has an epoch. */
  hasEpoch: boolean;
}

interface SeriesBuffer extends Columns {
  type: string;
  name: string;
  /** Index within the series of the first buffered point. */
  offset: number;
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

/** Points a series' columns hold before they first grow. */
const FIRST_CAPACITY = 1024;

const emptyColumns = (capacity: number): Columns => ({
  steps: new Float64Array(capacity),
  values: new Float64Array(capacity),
  epochs: new Float64Array(capacity),
  times: new Float64Array(capacity),
  length: 0,
  hasEpoch: false,
});

const pieceBytes = (piece: Piece): Uint8Array[] => {
  piece.bytes ??= encodeMetricRecord(piece.chunks.map((taken) => taken.chunk));
  return piece.bytes;
};

const byteLength = (buffers: readonly Uint8Array[]): number =>
  buffers.reduce((sum, buffer) => sum + buffer.byteLength, 0);

export class MetricLogWriter {
  readonly path: string;
  readonly #handle: FileHandle;
  readonly #byType = new Map<string, Map<string, SeriesBuffer>>();
  readonly #maxBuffered: number;
  readonly #timer: NodeJS.Timeout;
  readonly #onExit = () => this.flushSync();
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
    this.#timer = setInterval(() => this.#flushInBackground(), options.flushIntervalMs ?? 1000);
    this.#timer.unref();
    process.on('exit', this.#onExit);
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
        series = { type, name, offset: 0, ...emptyColumns(FIRST_CAPACITY) };
        byName.set(name, series);
      }
      if (series.length === series.steps.length) grow(series, series.length * 2);
      const at = series.length;
      const value = metrics[name] as number;
      series.steps[at] = step;
      // NaN and ±Infinity are all "not a number" (JSON's null), as the server stores them.
      series.values[at] = value - value === 0 ? value : Number.NaN;
      series.epochs[at] = epochValue;
      series.times[at] = time;
      series.length = at + 1;
      if (epoch !== null) series.hasEpoch = true;
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
    clearInterval(this.#timer);
    try {
      await this.flush();
    } finally {
      this.#closed = true;
      process.off('exit', this.#onExit);
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
        const { length } = series;
        if (length === 0) continue;
        const whole: Columns = { ...series };
        // The next interval is likely to log as much as this one.
        Object.assign(series, emptyColumns(Math.max(FIRST_CAPACITY, Math.min(length, PIECE_POINTS))));
        for (let start = 0; start < length; ) {
          if (room === 0) {
            pieces.push(piece);
            piece = { chunks: [] };
            room = PIECE_POINTS;
          }
          const end = Math.min(length, start + room);
          piece.chunks.push({
            series,
            chunk: {
              type: series.type,
              name: series.name,
              offset: series.offset,
              steps: whole.steps.subarray(start, end),
              values: whole.values.subarray(start, end),
              epochs: whole.hasEpoch ? whole.epochs.subarray(start, end) : null,
              times: whole.times.subarray(start, end),
            },
          });
          series.offset += end - start;
          room -= end - start;
          start = end;
        }
      }
    }
    if (piece.chunks.length > 0) pieces.push(piece);
    this.#buffered = 0;
    return pieces;
  }

  /** Puts a chunk whose write failed back in front of what was buffered since. */
  #restore(series: SeriesBuffer, chunk: MetricChunk): void {
    const count = chunk.steps.length;
    const later = { ...series };
    Object.assign(series, emptyColumns(Math.max(FIRST_CAPACITY, count + later.length)));
    series.offset -= count;
    const put = (column: keyof Pick<Columns, 'steps' | 'values' | 'epochs' | 'times'>, front: Float64Array | null) => {
      if (front) series[column].set(front, 0);
      else series[column].fill(Number.NaN, 0, count);
      series[column].set(later[column].subarray(0, later.length), count);
    };
    put('steps', chunk.steps);
    put('values', chunk.values);
    put('epochs', chunk.epochs);
    put('times', chunk.times);
    series.length = count + later.length;
    series.hasEpoch = later.hasEpoch || chunk.epochs !== null;
    this.#buffered += count;
  }
}

/** Moves a series' points into columns of `capacity` points. */
function grow(series: Columns, capacity: number): void {
  for (const column of ['steps', 'values', 'epochs', 'times'] as const) {
    const larger = new Float64Array(capacity);
    larger.set(series[column].subarray(0, series.length));
    series[column] = larger;
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
