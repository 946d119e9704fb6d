/**
 * The write side of `metrics.ndjson`. `append` only pushes numbers onto in-memory columns
 * (one set per series) and returns; a background timer, or a full buffer, turns the columns
 * into one chunk line per series and appends them with a single write followed by fsync, on
 * libuv's thread pool, so the training loop never waits for the disk.
 *
 * On process exit the columns still in memory are written synchronously; a SIGKILL loses at
 * most the points of the last flush interval.
 */
import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { encodeChunk } from './metric-chunk.js';

export interface MetricLogWriterOptions {
  /** Milliseconds between background flushes. Default 1000. */
  flushIntervalMs?: number;
  /** Buffered points that trigger a flush before the timer does. Default 20 000. */
  maxBufferedPoints?: number;
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

const emptyColumns = (): Columns => ({ steps: [], values: [], epochs: [], times: [], hasEpoch: false });

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
  /** Text handed to an asynchronous write that has not been confirmed yet. */
  #inFlight: string | undefined;
  #lastError: unknown;
  #closed = false;
  /** Bytes known to be whole lines on disk; a failed write is cut back to this. */
  #durableBytes: number;

  private constructor(path: string, handle: FileHandle, size: number, options: MetricLogWriterOptions) {
    this.path = path;
    this.#handle = handle;
    this.#durableBytes = size;
    this.#maxBuffered = options.maxBufferedPoints ?? 20_000;
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
    const text =
      (this.#inFlight ?? '') +
      this.#takeChunks()
        .map(([, chunk]) => chunk)
        .join('');
    if (text === '') return;
    const descriptor = openSync(this.path, 'a');
    try {
      writeSync(descriptor, text);
      fdatasyncSync(descriptor);
    } finally {
      closeSync(descriptor);
    }
    this.#inFlight = undefined;
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
    const taken = this.#takeChunks();
    if (taken.length === 0) return;
    const text = taken.map(([, chunk]) => chunk).join('');
    this.#inFlight = text;
    try {
      await this.#handle.appendFile(text);
      await this.#handle.datasync();
      this.#inFlight = undefined;
      this.#durableBytes += Buffer.byteLength(text);
    } catch (error) {
      this.#inFlight = undefined;
      await this.#handle.truncate(this.#durableBytes).catch(() => {});
      // Put the points back in front so a later flush writes them at the same offsets.
      for (const [series, , columns] of taken) this.#restore(series, columns);
      throw error;
    }
  }

  /** Swaps each series' columns for empty ones and encodes what was taken. */
  #takeChunks(): [SeriesBuffer, string, Columns][] {
    const taken: [SeriesBuffer, string, Columns][] = [];
    for (const byName of this.#byType.values()) {
      for (const series of byName.values()) {
        if (series.steps.length === 0) continue;
        const columns: Columns = {
          steps: series.steps,
          values: series.values,
          epochs: series.epochs,
          times: series.times,
          hasEpoch: series.hasEpoch,
        };
        const chunk = encodeChunk({
          type: series.type,
          name: series.name,
          offset: series.offset,
          steps: columns.steps,
          // JSON.stringify writes NaN and ±Infinity as null.
          values: columns.values,
          epochs: columns.hasEpoch ? columns.epochs : null,
          times: columns.times,
        });
        series.offset += columns.steps.length;
        Object.assign(series, emptyColumns());
        taken.push([series, chunk, columns]);
      }
    }
    this.#buffered = 0;
    return taken;
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
