/**
 * The adapter-independent part of appending to a chunked series: which points are new,
 * how they fill the open chunk and new ones, and the summary after them. Adapters only
 * read and write the rows this plans.
 */
import { LarderError } from '@larder/protocol';

export { packColumn, unpackColumn } from './column-codec.js';

import {
  CHUNK_POINTS,
  type PointColumns,
  type ReadOptions,
  type SeriesKey,
  type SeriesSummary,
} from './metric-store.js';

/** One stored chunk: `seq` orders chunks within a series. */
export interface Chunk {
  seq: number;
  columns: PointColumns;
}

export interface StoredSeries {
  summary: SeriesSummary;
  /** Number of chunks. */
  chunks: number;
}

const COLUMNS = ['steps', 'values', 'epochs', 'times'] as const;

export function columnsLength(columns: PointColumns): number {
  return columns.steps.length;
}

export function sliceColumns(columns: PointColumns, start: number, end = columnsLength(columns)): PointColumns {
  return {
    steps: columns.steps.subarray(start, end),
    values: columns.values.subarray(start, end),
    epochs: columns.epochs.subarray(start, end),
    times: columns.times.subarray(start, end),
  };
}

export function concatColumns(parts: readonly PointColumns[]): PointColumns {
  const total = parts.reduce((sum, part) => sum + columnsLength(part), 0);
  const joined = {
    steps: new Float64Array(total),
    values: new Float64Array(total),
    epochs: new Float64Array(total),
    times: new Float64Array(total),
  };
  let at = 0;
  for (const part of parts) {
    for (const column of COLUMNS) joined[column].set(part[column], at);
    at += columnsLength(part);
  }
  return joined;
}

/**
 * What an append writes. Only whole chunks are stored as chunk rows (with their envelopes);
 * the points of the open chunk, the last one while it has fewer than `CHUNK_POINTS`, are kept
 * as the pieces the appends brought (a row each), so a small append writes only its own
 * points. The append that fills the open chunk folds its pieces into a whole chunk.
 */
export interface AppendPlan {
  summary: SeriesSummary;
  /** Chunks after the append, the open one counted. */
  chunks: number;
  /** Whole chunks to insert, in order; the first is the previously open chunk when `sealsOpen`. */
  sealed: Chunk[];
  /** Whether the open chunk's stored pieces went into `sealed[0]`: delete them. */
  sealsOpen: boolean;
  /** Points to store as a piece of the open chunk (`start`: index in the chunk of its first). */
  piece: { seq: number; start: number; columns: PointColumns } | undefined;
}

/**
 * The points of a batch the series does not hold yet (those before `count` are skipped, so a
 * resent batch lands once). Refuses an offset that would leave a gap.
 */
export function freshPoints(key: SeriesKey, offset: number, points: PointColumns, count: number): PointColumns {
  if (!Number.isInteger(offset) || offset < 0) {
    throw new LarderError('BadRequest', `The offset of ${key.type}/${key.name} must be a whole number, 0 or more`);
  }
  if (offset > count) {
    throw new LarderError(
      'Conflict',
      `Series ${key.type}/${key.name} holds ${count} points; a batch starting at ${offset} would leave a gap`,
      { data: { type: key.type, name: key.name, count } },
    );
  }
  return sliceColumns(points, Math.min(count - offset, columnsLength(points)));
}

/**
 * Whether appending `added` points to a series of `count` fills its open chunk, so that the
 * adapter must read the open chunk's pieces for `planAppend`.
 */
export function fillsOpenChunk(count: number, added: number): boolean {
  const open = count % CHUNK_POINTS;
  return open > 0 && open + added >= CHUNK_POINTS;
}

/** The chunk number of a series' open chunk, or undefined when every chunk is whole. */
export function openChunkSeq(count: number): number | undefined {
  return count % CHUNK_POINTS === 0 ? undefined : Math.floor(count / CHUNK_POINTS);
}

/**
 * Plans appending `fresh` (from `freshPoints`, not empty). `open` is the open chunk's points,
 * needed only when the append fills it (`fillsOpenChunk`).
 */
export function planAppend(
  key: SeriesKey,
  fresh: PointColumns,
  existing: StoredSeries | undefined,
  open: PointColumns | undefined,
): AppendPlan {
  const count = existing?.summary.count ?? 0;
  const openCount = count % CHUNK_POINTS;
  const sealed: Chunk[] = [];
  let seq = Math.floor(count / CHUNK_POINTS);
  let rest = fresh;
  let sealsOpen = false;
  let piece: AppendPlan['piece'];
  if (openCount > 0) {
    const room = CHUNK_POINTS - openCount;
    if (columnsLength(rest) < room) {
      piece = { seq, start: openCount, columns: rest };
      rest = sliceColumns(rest, columnsLength(rest));
    } else {
      if (!open || columnsLength(open) !== openCount) {
        throw new LarderError(
          'GeneralError',
          `The open chunk of ${key.type}/${key.name} holds ${open ? columnsLength(open) : 0} points; its series row says ${openCount}`,
        );
      }
      sealed.push({ seq, columns: concatColumns([open, sliceColumns(rest, 0, room)]) });
      sealsOpen = true;
      rest = sliceColumns(rest, room);
      seq += 1;
    }
  }
  for (; columnsLength(rest) >= CHUNK_POINTS; seq += 1) {
    sealed.push({ seq, columns: sliceColumns(rest, 0, CHUNK_POINTS) });
    rest = sliceColumns(rest, CHUNK_POINTS);
  }
  if (columnsLength(rest) > 0) piece = { seq, start: 0, columns: rest };
  const summary = summarise(key, existing?.summary, fresh);
  return { summary, chunks: Math.ceil(summary.count / CHUNK_POINTS), sealed, sealsOpen, piece };
}

function summarise(key: SeriesKey, before: SeriesSummary | undefined, fresh: PointColumns): SeriesSummary {
  // Numbers only in the loop (no null, no call per point): a comparison with NaN is false,
  // so points that are not a number, and the infinities (bounded out), never move min or max.
  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  let lowStep = Number.POSITIVE_INFINITY;
  let highStep = Number.NEGATIVE_INFINITY;
  const { steps, values, epochs } = fresh;
  const n = columnsLength(fresh);
  for (let index = 0; index < n; index += 1) {
    const value = values[index] as number;
    if (value < low && value > Number.NEGATIVE_INFINITY) low = value;
    if (value > high && value < Number.POSITIVE_INFINITY) high = value;
    const step = steps[index] as number;
    if (step < lowStep) lowStep = step;
    if (step > highStep) highStep = step;
  }
  let lastEpoch = before?.lastEpoch ?? null;
  for (let index = n - 1; index >= 0; index -= 1) {
    const epoch = epochs[index] as number;
    if (!Number.isNaN(epoch)) {
      lastEpoch = epoch;
      break;
    }
  }
  const found = low <= high;
  const min = before?.min ?? null;
  const max = before?.max ?? null;
  const last = values[n - 1] as number;
  return {
    ...key,
    count: (before?.count ?? 0) + n,
    firstStep: before ? Math.min(before.firstStep, lowStep) : lowStep,
    lastStep: before ? Math.max(before.lastStep, highStep) : highStep,
    last: Number.isFinite(last) ? last : null,
    min: found ? (min === null ? low : Math.min(min, low)) : min,
    max: found ? (max === null ? high : Math.max(max, high)) : max,
    lastEpoch,
    lastTime: fresh.times[n - 1] as number,
  };
}

/** Lowest and highest step of a chunk, kept beside it. */
export function stepRange(steps: Float64Array): [number, number] {
  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  for (const step of steps) {
    if (step < low) low = step;
    if (step > high) high = step;
  }
  return [low, high];
}

/** Joins steps and values only (epochs and times left empty). */
export function concatValues(parts: readonly PointColumns[]): PointColumns {
  const total = parts.reduce((sum, part) => sum + part.steps.length, 0);
  const steps = new Float64Array(total);
  const values = new Float64Array(total);
  let at = 0;
  for (const part of parts) {
    steps.set(part.steps, at);
    values.set(part.values, at);
    at += part.steps.length;
  }
  return { steps, values, epochs: new Float64Array(0), times: new Float64Array(0) };
}

/** The largest chunk number a column of 32-bit integers holds (PostgreSQL's `integer`). */
const MAX_SEQ = 2 ** 31 - 1;

/** The chunks (by `seq`, both included) holding the points an index range asks for; all of them without one. */
export function chunksOfIndexes(options: ReadOptions): { firstSeq: number; lastSeq: number } {
  const firstSeq = Math.min(MAX_SEQ, Math.floor(Math.max(0, options.fromIndex ?? 0) / CHUNK_POINTS));
  if (options.toIndex === undefined) return { firstSeq, lastSeq: MAX_SEQ };
  // An empty range still names a chunk: the read then keeps none of its points.
  const last = Math.floor((Math.max(options.toIndex, 1) - 1) / CHUNK_POINTS);
  return { firstSeq, lastSeq: Math.min(MAX_SEQ, Math.max(firstSeq, last)) };
}

/**
 * The points of an index range out of the columns read from chunk `firstSeq` on (every chunk
 * but the last holds `CHUNK_POINTS`), then those of the step range.
 */
export function selectPoints(columns: PointColumns, options: ReadOptions, firstSeq: number): PointColumns {
  let selected = columns;
  if (options.fromIndex !== undefined || options.toIndex !== undefined) {
    const base = firstSeq * CHUNK_POINTS;
    const length = columnsLength(columns);
    const start = Math.min(length, Math.max(0, (options.fromIndex ?? 0) - base));
    const end = Math.min(length, Math.max(start, (options.toIndex ?? Number.POSITIVE_INFINITY) - base));
    selected = sliceColumns(columns, start, end);
  }
  return filterSteps(selected, options);
}

/** Keeps the points whose step lies in the requested range. */
export function filterSteps(columns: PointColumns, options: ReadOptions): PointColumns {
  const from = options.fromStep ?? Number.NEGATIVE_INFINITY;
  const to = options.toStep ?? Number.POSITIVE_INFINITY;
  if (from === Number.NEGATIVE_INFINITY && to === Number.POSITIVE_INFINITY) return columns;
  const keep: number[] = [];
  columns.steps.forEach((step, index) => {
    if (step >= from && step <= to) keep.push(index);
  });
  const pick = (column: Float64Array) =>
    column.length === 0 ? column : Float64Array.from(keep, (index) => column[index] as number);
  return {
    steps: pick(columns.steps),
    values: pick(columns.values),
    epochs: pick(columns.epochs),
    times: pick(columns.times),
  };
}

export function emptySummary(key: SeriesKey): SeriesSummary {
  return {
    ...key,
    count: 0,
    firstStep: 0,
    lastStep: 0,
    last: null,
    min: null,
    max: null,
    lastEpoch: null,
    lastTime: 0,
  };
}

/** A series row as both SQL adapters store it. */
export interface SeriesRow {
  run: string;
  type: string;
  name: string;
  count: number;
  chunks: number;
  first_step: number;
  last_step: number;
  last: number | null;
  min: number | null;
  max: number | null;
  last_epoch: number | null;
  last_time: number;
}

export function toSummary(row: SeriesRow): SeriesSummary {
  return {
    run: row.run,
    type: row.type,
    name: row.name,
    count: row.count,
    firstStep: row.first_step,
    lastStep: row.last_step,
    last: row.last,
    min: row.min,
    max: row.max,
    lastEpoch: row.last_epoch,
    lastTime: row.last_time,
  };
}
