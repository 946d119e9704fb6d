/**
 * The write side of `metrics.ndjson`. `append` only pushes numbers onto in-memory columns
 * (one set per series) and returns; a background timer, or a full buffer, turns the columns
 * into one chunk line per series and appends them with a single write followed by fsync, on
 * libuv's thread pool, so the training loop never waits for the disk.
 *
 * A large flush (a training loop that never yields, then `finish()`) is written in pieces
 * of at most {@link PIECE_POINTS} points, each fsync'd and then handed to `onDurable` (the
 * live run's uploader), so the first points are on their way to the server while the rest
 * are still being encoded, and the uploader need not read back what was just written.
 *
 * On process exit the columns still in memory are written synchronously; a SIGKILL loses at
 * most the points of the last flush interval.
 */
import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { encodeChunk, type MetricChunk } from './metric-chunk.js';

/** Most points of one write (and of one line): bounds the text held at once. */
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

interface Columns {
  steps: number[];
  values: number[];
  epochs: (number | null)[];
  times: number[];
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
  columns: Columns;
}

/** Chunks written with one write and one fsync; `text` is encoded when its turn comes. */
interface Piece {
  chunks: TakenChunk[];
  text?: string;
}

const emptyColumns = (): Columns => ({ steps: [], values: [], epochs: [], times: [], hasEpoch: false });

const pieceText = (piece: Piece): string => {
  piece.text ??= piece.chunks.map((taken) => encodeChunk(taken.chunk)).join('');
  return piece.text;
};

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
    for (const name in metrics) {
      let series = byName.get(name);
      if (series === undefined) {
        series = { type, name, offset: 0, ...emptyColumns() };
        byName.set(name, series);
      }
      series.steps.push(step);
      series.values.push(metrics[name] as number);
      series.epochs.push(epoch);
      series.times.push(time);
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
    const text = pieces.map(pieceText).join('');
    if (text === '') return;
    const descriptor = openSync(this.path, 'a');
    try {
      writeSync(descriptor, text);
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
      const text = pieceText(piece);
      const from = this.#durableBytes;
      try {
        await this.#handle.appendFile(text);
        await this.#handle.datasync();
      } catch (error) {
        const lost = this.#unconfirmed;
        this.#unconfirmed = [];
        await this.#handle.truncate(this.#durableBytes).catch(() => {});
        // Put the points back in front, last piece first, so a later flush writes them at the same offsets.
        for (const each of lost.reverse()) {
          for (const taken of each.chunks.reverse()) this.#restore(taken.series, taken.columns);
        }
        throw error;
      }
      this.#unconfirmed.shift();
      this.#durableBytes += Buffer.byteLength(text);
      this.#onDurable?.({ from, to: this.#durableBytes, chunks: piece.chunks.map((taken) => taken.chunk) });
    }
  }

  /**
   * Swaps each series' columns for empty ones and groups what was taken into pieces of at
   * most {@link PIECE_POINTS} points (a longer series is cut into several lines).
   */
  #takePieces(): Piece[] {
    const pieces: Piece[] = [];
    let piece: Piece = { chunks: [] };
    let room = PIECE_POINTS;
    for (const byName of this.#byType.values()) {
      for (const series of byName.values()) {
        const length = series.steps.length;
        if (length === 0) continue;
        const whole: Columns = {
          steps: series.steps,
          values: series.values,
          epochs: series.epochs,
          times: series.times,
          hasEpoch: series.hasEpoch,
        };
        Object.assign(series, emptyColumns());
        for (let start = 0; start < length; ) {
          if (room === 0) {
            pieces.push(piece);
            piece = { chunks: [] };
            room = PIECE_POINTS;
          }
          const end = Math.min(length, start + room);
          const columns = start === 0 && end === length ? whole : sliceColumns(whole, start, end);
          piece.chunks.push({
            series,
            columns,
            chunk: {
              type: series.type,
              name: series.name,
              offset: series.offset,
              steps: columns.steps,
              // The encoder writes NaN and ±Infinity as null, as JSON.stringify does.
              values: columns.values,
              epochs: columns.hasEpoch ? columns.epochs : null,
              times: columns.times,
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

  #restore(series: SeriesBuffer, columns: Columns): void {
    series.offset -= columns.steps.length;
    series.steps = columns.steps.concat(series.steps);
    series.values = columns.values.concat(series.values);
    series.epochs = columns.epochs.concat(series.epochs);
    series.times = columns.times.concat(series.times);
    series.hasEpoch ||= columns.hasEpoch;
    this.#buffered += columns.steps.length;
  }
}

function sliceColumns(columns: Columns, start: number, end: number): Columns {
  const epochs = columns.epochs.slice(start, end);
  return {
    steps: columns.steps.slice(start, end),
    values: columns.values.slice(start, end),
    epochs,
    times: columns.times.slice(start, end),
    hasEpoch: columns.hasEpoch && epochs.some((epoch) => epoch !== null),
  };
}
