/**
 * Reads `metrics.ndjson` back: from any byte position, a bounded amount at a time, only
 * whole lines. A last line cut short by a crash is ignored (its points never became
 * durable); a damaged line before the end is an error naming the file.
 */
import { open } from 'node:fs/promises';
import { LarderError } from '@larder/protocol';
import { decodeChunk, type MetricChunk, seriesKey } from './metric-chunk.js';

export interface MetricLogSlice {
  chunks: MetricChunk[];
  /** The byte position after the last whole line read; where the next read starts. */
  end: number;
  /** True when nothing after `end` is a whole line yet. */
  atEnd: boolean;
}

export interface ReadMetricLogOptions {
  /** Byte position to start at (a line start). Default 0. */
  from?: number;
  /** Roughly how many bytes to read; a longer line is still read whole. Default 8 MiB. */
  maxBytes?: number;
}

/**
 * Whole chunks from `from` on; an absent file reads as empty.
 *
 * @example
 * let from = 0;
 * for (;;) { const slice = await readMetricLog(file, { from }); use(slice.chunks); from = slice.end; if (slice.atEnd) break; }
 */
export async function readMetricLog(path: string, options: ReadMetricLogOptions = {}): Promise<MetricLogSlice> {
  const from = options.from ?? 0;
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
      const lastNewline = buffer.lastIndexOf(0x0a, bytesRead - 1);
      if (lastNewline < 0) {
        // No whole line yet: either a torn tail or a line longer than maxBytes.
        if (from + bytesRead >= size) return { chunks: [], end: from, atEnd: true };
        maxBytes *= 2;
        continue;
      }
      // Bytes after the last newline are a line still being written, or torn by a crash.
      const readToEnd = from + bytesRead >= size;
      const chunks = parseLines(path, buffer.toString('utf8', 0, lastNewline), readToEnd);
      return { chunks, end: from + lastNewline + 1, atEnd: readToEnd };
    }
  } finally {
    await handle.close();
  }
}

function parseLines(path: string, text: string, lastLineIsFileEnd: boolean): MetricChunk[] {
  const lines = text.split('\n');
  const chunks: MetricChunk[] = [];
  for (const [index, line] of lines.entries()) {
    if (line === '') continue;
    const chunk = decodeChunk(line);
    if (chunk) {
      chunks.push(chunk);
      continue;
    }
    // A crash can leave a garbled final line even with its newline; anything earlier is damage.
    if (index === lines.length - 1 && lastLineIsFileEnd) break;
    throw new LarderError('BadRequest', `${path} holds a damaged line: ${line.slice(0, 80)}`);
  }
  return chunks;
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
    for (let index = have - chunk.offset; index < chunk.steps.length; index++) {
      series.steps.push(chunk.steps[index]!);
      series.values.push(chunk.values[index]!);
      series.epochs.push(chunk.epochs?.[index] ?? null);
      series.times.push(chunk.times[index]!);
    }
  }

  get series(): MetricSeries[] {
    return [...this.#series.values()];
  }
}

/**
 * Every series in the file.
 *
 * @example
 * const series = await readAllSeries('.larder/runs/mnist_250102_093015_k3x9q2/metrics.ndjson');
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
