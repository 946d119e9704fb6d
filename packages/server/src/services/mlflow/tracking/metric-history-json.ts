/**
 * The JSON text of a metric history answer (`{"metrics":[{key, value, timestamp, step}, …]}`),
 * written straight from the store's columns as bytes (`history-bytes.ts`) into pieces of
 * about a MiB: no object and no string per point. A long answer is split into parts written
 * at the same time, the first on the main thread as the socket drains, the others on worker
 * threads (`history-format-threads.ts`). The bytes are exactly what JSON.stringify would
 * give for the same message, in UTF-8 (values as MLflow writes doubles: `"NaN"`,
 * `"Infinity"`, `"-Infinity"` as strings).
 */
import { Readable } from 'node:stream';
import type { PointColumns } from '../../../stores/metric-store.js';
import { type Cursor, copyText, fillPiece, POINT_BYTES, type PointRun } from './history-bytes.js';
import { type GatheredRun, historyFormatThreads } from './history-format-threads.js';

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

/** The slices' points cut into `count` parts of about the same number of points, in order. */
function splitParts(runs: readonly PointRun[], count: number): Part[][] {
  const total = runs.reduce((sum, run) => sum + run.indexes.length, 0);
  const parts: Part[][] = Array.from({ length: count }, () => []);
  let part = 0;
  let room = Math.ceil(total / count);
  for (const run of runs) {
    for (let from = 0; from < run.indexes.length; ) {
      const to = Math.min(run.indexes.length, from + room);
      parts[part]?.push({ run, from, to });
      room -= to - from;
      from = to;
      if (room === 0 && part < count - 1) {
        part += 1;
        room = Math.ceil(total / count);
      }
    }
  }
  return parts;
}

/** A part's columns, gathered in answer order, for a worker. */
function gathered(parts: readonly Part[]): GatheredRun[] {
  return parts.map(({ run, from, to }) => {
    const values = new Float64Array(to - from);
    const times = new Float64Array(to - from);
    const steps = new Float64Array(to - from);
    for (let at = from; at < to; at += 1) {
      const index = run.indexes[at] as number;
      values[at - from] = run.values[index] as number;
      times[at - from] = run.times[index] as number;
      steps[at - from] = run.steps[index] as number;
    }
    return { head: run.head, tail: run.tail, values, times, steps };
  });
}

async function* parallelPieces(
  slices: readonly HistorySlice[],
  nextPageToken: string | undefined,
  threads: NonNullable<ReturnType<typeof historyFormatThreads>>,
): AsyncGenerator<Buffer> {
  const [own = [], ...others] = splitParts(slices.map(pointRun), threads.size + 1);
  // Every part has points (the answer is long), so every part after the first starts with a comma.
  const answers = others.map((parts) => {
    const answer = threads.format(gathered(parts), false);
    answer.catch(() => undefined); // awaited below, in order
    return answer;
  });
  const cursor: Cursor = { piece: Buffer.allocUnsafe(PIECE_BYTES), at: 0, first: true };
  cursor.at = copyText(cursor.piece, 0, '{"metrics":[');
  yield* partPieces(own, cursor);
  yield Buffer.from(cursor.piece.buffer, cursor.piece.byteOffset, cursor.at);
  for (const [at, answer] of answers.entries()) {
    const pieces = await answer.catch(() => undefined);
    if (pieces) yield* pieces;
    else {
      // The thread failed (it died, or ran out of memory): this part is written here.
      const local: Cursor = { piece: Buffer.allocUnsafe(PIECE_BYTES), at: 0, first: false };
      yield* partPieces(others[at] ?? [], local);
      yield Buffer.from(local.piece.buffer, local.piece.byteOffset, local.at);
    }
  }
  yield closing(nextPageToken);
}

/** The answer as a stream the dispatcher serves as `application/json`, read as the socket drains. */
export function metricHistoryJson(
  slices: readonly HistorySlice[],
  nextPageToken?: string,
  parallelFrom = PARALLEL_HISTORY_POINTS,
): Readable {
  const total = slices.reduce((sum, slice) => sum + slice.indexes.length, 0);
  const threads = total >= parallelFrom ? historyFormatThreads() : undefined;
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
