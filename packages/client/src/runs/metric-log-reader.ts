/**
 * Reads the local metric log back: from any byte position, a bounded amount at a time, only
 * whole records (`metrics.lmc`) or whole lines (`metrics.ndjson`, runs written before the
 * binary log). A last record cut short by a crash is ignored (its points never became
 * durable); a damaged one before the end is an error naming the file.
 */
import { open } from 'node:fs/promises';
import { LarderError } from '@larder/protocol';
import { type MetricChunk, nullableNumbers, seriesKey } from './metric-chunk.js';
import { decodeNdjsonChunks } from './metric-log-ndjson.js';
import { type DecodedChunks, decodeMetricRecords } from './metric-log-record.js';

export interface MetricLogSlice {
  chunks: MetricChunk[];
  /** The byte position after the last whole record read; where the next read starts. */
  end: number;
  /** True when nothing after `end` is a whole record yet. */
  atEnd: boolean;
}

export interface ReadMetricLogOptions {
  /** Byte position to start at (a record start). Default 0. */
  from?: number;
  /** Roughly how many bytes to read; a longer record is still read whole. Default 8 MiB. */
  maxBytes?: number;
}

/**
 * Whole chunks from `from` on; an absent file reads as empty. The format follows the file's
 * name: `.ndjson` is the first, line-based one.
 *
 * @example
 * let from = 0;
 * for (;;) { const slice = await readMetricLog(file, { from }); use(slice.chunks); from = slice.end; if (slice.atEnd) break; }
 */
export async function readMetricLog(path: string, options: ReadMetricLogOptions = {}): Promise<MetricLogSlice> {
  const from = options.from ?? 0;
  const decode = path.endsWith('.ndjson') ? ndjson : decodeMetricRecords;
  let maxBytes = Math.max(1024, options.maxBytes ?? 8 * 1024 * 1024);
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (cause) {
    if ((cause as { code?: unknown }).code === 'ENOENT') return { chunks: [], end: from, atEnd: true };
    throw cause;
  }
  try {
    const { size } = await handle.stat();
    for (;;) {
      const length = Math.min(maxBytes, size - from);
      if (length <= 0) return { chunks: [], end: from, atEnd: true };
      const buffer = Buffer.allocUnsafe(length);
      const { bytesRead } = await handle.read(buffer, 0, length, from);
      // Bytes after the last whole record are one still being written, or torn by a crash.
      const readToEnd = from + bytesRead >= size;
      const decoded = decode(path, buffer, bytesRead, readToEnd);
      if (decoded.need !== undefined && !readToEnd) {
        // Nothing whole yet: a record longer than maxBytes.
        maxBytes = Math.max(maxBytes * 2, decoded.need);
        continue;
      }
      return { chunks: decoded.chunks, end: from + decoded.used, atEnd: readToEnd };
    }
  } finally {
    await handle.close();
  }
}

function ndjson(path: string, buffer: Buffer, length: number, atFileEnd: boolean): DecodedChunks {
  return decodeNdjsonChunks(path, buffer, length, atFileEnd) ?? { chunks: [], used: 0, need: length + 1 };
}

/** All points of one series, in order. */
export interface MetricSeries {
  type: string;
  name: string;
  steps: number[];
  values: (number | null)[];
  epochs: (number | null)[];
  times: number[];
}

/**
 * Folds chunks into whole series; a repeated chunk (possible after a crash during exit)
 * adds nothing, a missing one is an error.
 */
export class SeriesAssembler {
  readonly #series = new Map<string, MetricSeries>();
  readonly #path: string;

  constructor(path: string) {
    this.#path = path;
  }

  add(chunk: MetricChunk): void {
    const key = seriesKey(chunk.type, chunk.name);
    let series = this.#series.get(key);
    if (!series) {
      series = { type: chunk.type, name: chunk.name, steps: [], values: [], epochs: [], times: [] };
      this.#series.set(key, series);
    }
    const have = series.steps.length;
    if (chunk.offset > have) {
      throw new LarderError(
        'BadRequest',
        `${this.#path} is missing points ${have}-${chunk.offset - 1} of ${chunk.type}/${chunk.name}`,
      );
    }
    const from = have - chunk.offset;
    if (from >= chunk.steps.length) return;
    const part = (column: Float64Array) => (from === 0 ? column : column.subarray(from));
    for (const step of part(chunk.steps)) series.steps.push(step);
    for (const value of nullableNumbers(part(chunk.values))) series.values.push(value);
    if (chunk.epochs) for (const epoch of nullableNumbers(part(chunk.epochs))) series.epochs.push(epoch);
    else for (let index = from; index < chunk.steps.length; index += 1) series.epochs.push(null);
    for (const time of part(chunk.times)) series.times.push(time);
  }

  get series(): MetricSeries[] {
    return [...this.#series.values()];
  }
}

/**
 * Every series in the file.
 *
 * @example
 * const series = await readAllSeries('.larder/runs/mnist_250102_093015_k3x9q2/metrics.lmc');
 */
export async function readAllSeries(path: string): Promise<{ series: MetricSeries[]; end: number }> {
  const assembler = new SeriesAssembler(path);
  let from = 0;
  for (;;) {
    const slice = await readMetricLog(path, { from });
    for (const chunk of slice.chunks) assembler.add(chunk);
    from = slice.end;
    if (slice.atEnd) return { series: assembler.series, end: from };
  }
}
