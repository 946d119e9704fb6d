/**
 * The JSON text of a metric history answer (`{"metrics":[{key, value, timestamp, step}, …]}`),
 * written straight from the store's columns as bytes (`history-bytes.ts`) into pieces of
 * about a MiB: no object and no string per point. A long answer is written in chunks by the
 * main thread and worker threads at once (`history-format-threads.ts`), each taking the next
 * chunk when it is free, and sent in order as they are done. The bytes are exactly what
 * JSON.stringify would give for the same message, in UTF-8 (values as MLflow writes doubles:
 * `"NaN"`, `"Infinity"`, `"-Infinity"` as strings).
 */
import { Readable } from 'node:stream';
import type { PointColumns } from '../../../stores/metric-store.js';
import { type Cursor, copyText, fillPiece, POINT_BYTES, type PointRun, writeChunk } from './history-bytes.js';
import { type ChunkJob, type FormatThreads, historyFormatThreads } from './history-format-threads.js';

const PIECE_BYTES = 1 << 20;
/** Answers with fewer points are written on the main thread alone. */
export const PARALLEL_HISTORY_POINTS = 200_000;

export interface HistorySlice {
  key: string;
  columns: PointColumns;
  /** Indexes into the columns, in answer order. */
  indexes: ArrayLike<number>;
  /** Adds `run_id` to every metric (the bulk endpoints). */
  runId?: string;
}

/** Points `from` … `to - 1` of a run. */
interface Part {
  run: PointRun;
  from: number;
  to: number;
}

function pointRun({ key, columns, indexes, runId }: HistorySlice): PointRun {
  const { values, times, steps } = columns;
  return {
    head: Buffer.from(`{"key":${JSON.stringify(key)},"value":`),
    tail: Buffer.from(runId === undefined ? '}' : `,"run_id":${JSON.stringify(runId)}}`),
    values,
    times,
    steps,
    indexes,
  };
}

/** The pieces of the parts' points, `first` when no point precedes them. */
function* partPieces(parts: readonly Part[], cursor: Cursor): Generator<Buffer> {
  for (const { run, from, to } of parts) {
    for (let next = from; next < to; ) {
      next = fillPiece(cursor, run, next, to);
      if (next < to) {
        yield Buffer.from(cursor.piece.buffer, cursor.piece.byteOffset, cursor.at);
        cursor.piece = Buffer.allocUnsafe(Math.max(PIECE_BYTES, run.head.length + run.tail.length + POINT_BYTES + 1));
        cursor.at = 0;
      }
    }
  }
}

function closing(nextPageToken: string | undefined): Buffer {
  return Buffer.from(nextPageToken === undefined ? ']}' : `],"next_page_token":${JSON.stringify(nextPageToken)}}`);
}

/** The bytes of `{"metrics":[…]<, "next_page_token": …>}` for the slices, in order, in pieces. */
export function* metricHistoryPieces(slices: readonly HistorySlice[], nextPageToken?: string): Generator<Buffer> {
  const cursor: Cursor = { piece: Buffer.allocUnsafe(PIECE_BYTES), at: 0, first: true };
  cursor.at = copyText(cursor.piece, 0, '{"metrics":[');
  yield* partPieces(
    slices.map((slice) => ({ run: pointRun(slice), from: 0, to: slice.indexes.length })),
    cursor,
  );
  yield Buffer.from(cursor.piece.buffer, cursor.piece.byteOffset, cursor.at);
  yield closing(nextPageToken);
}

/** Points a chunk of a long answer (about 0.7 MB of text for MLflow's usual keys). */
const CHUNK_POINTS = 8192;

/** The slices' points gathered into shared columns, in answer order, for every thread. */
function sharedJob(slices: readonly HistorySlice[]): ChunkJob {
  const total = slices.reduce((sum, slice) => sum + slice.indexes.length, 0);
  const column = () => new Float64Array(new SharedArrayBuffer(total * Float64Array.BYTES_PER_ELEMENT));
  const job: ChunkJob = {
    runs: [],
    values: column(),
    times: column(),
    steps: column(),
    indexes: new Uint32Array(new SharedArrayBuffer(total * Uint32Array.BYTES_PER_ELEMENT)),
    claims: new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT)),
    chunkPoints: CHUNK_POINTS,
  };
  let at = 0;
  for (const slice of slices) {
    const { head, tail, values, times, steps, indexes } = pointRun(slice);
    job.runs.push({ head, tail, start: at, end: at + indexes.length });
    for (let next = 0; next < indexes.length; next += 1, at += 1) {
      const index = indexes[next] as number;
      job.values[at] = values[index] as number;
      job.times[at] = times[index] as number;
      job.steps[at] = steps[index] as number;
      job.indexes[at] = at;
    }
  }
  return job;
}

async function* parallelPieces(
  slices: readonly HistorySlice[],
  nextPageToken: string | undefined,
  threads: FormatThreads,
): AsyncGenerator<Buffer> {
  const job = sharedJob(slices);
  const { values, times, steps, indexes, claims } = job;
  const runs = job.runs.map((run) => ({ ...run, values, times, steps, indexes }));
  const chunks = Math.ceil(values.length / CHUNK_POINTS);
  const written = (chunk: number) => {
    const piece = writeChunk(runs, chunk * CHUNK_POINTS, Math.min(values.length, (chunk + 1) * CHUNK_POINTS));
    return Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
  };
  const feed = threads.format(job);
  try {
    yield Buffer.from('{"metrics":[');
    for (let next = 0; next < chunks; next += 1) {
      for (;;) {
        const ready = feed.take(next);
        if (ready) {
          yield ready;
          break;
        }
        // Not written yet: this thread writes the next unclaimed chunk, or waits for the threads.
        const claimed = Atomics.add(claims, 0, 1);
        if (claimed < chunks) {
          feed.put(claimed, written(claimed));
          // A chunk ahead of the next one: let the threads' messages in before going on.
          if (claimed !== next) await new Promise(setImmediate);
        } else if (feed.failure) {
          // A thread died (or ran out of memory) holding this chunk: it is written here.
          yield written(next);
          break;
        } else await feed.arrival();
      }
    }
    yield closing(nextPageToken);
  } finally {
    // A reader that stops early (the client went away) stops the threads at their next claim.
    Atomics.store(claims, 0, chunks);
  }
}

export interface HistoryJsonOptions {
  /** Answers of this many points or more are written in parts on threads. */
  parallelFrom?: number;
  /** The threads (the process's own by default). */
  threads?: FormatThreads;
}

/** The answer as a stream the dispatcher serves as `application/json`, read as the socket drains. */
export function metricHistoryJson(
  slices: readonly HistorySlice[],
  nextPageToken?: string,
  options: HistoryJsonOptions = {},
): Readable {
  const total = slices.reduce((sum, slice) => sum + slice.indexes.length, 0);
  const threads =
    total >= (options.parallelFrom ?? PARALLEL_HISTORY_POINTS)
      ? (options.threads ?? historyFormatThreads())
      : undefined;
  return Readable.from(
    threads ? parallelPieces(slices, nextPageToken, threads) : metricHistoryPieces(slices, nextPageToken),
    { objectMode: false },
  );
}

/** `start`, `start + 1`, …, `end - 1` as an index list. */
export function indexRange(start: number, end: number): Uint32Array {
  const length = Math.max(0, end - start);
  const indexes = new Uint32Array(length);
  for (let at = 0; at < length; at += 1) indexes[at] = start + at;
  return indexes;
}
